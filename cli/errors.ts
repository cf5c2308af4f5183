/**
 * What can go wrong, and the exit code each failure ends the process with:
 *
 * | code | meaning |
 * |---|---|
 * | 0 | done (`watch`: the rollout SUCCEEDED) |
 * | 1 | the API refused or failed the request, a spec is invalid, or (`watch`) the rollout ended ROLLED_BACK, ABORTED or FAILED |
 * | 2 | usage: unknown command or flag, a missing or bad argument, not logged in; nothing was sent |
 * | 3 | the API could not be reached (`watch`: not again within 5 minutes of losing it) |
 * | 4 | `audit verify` found a broken link in the decision log |
 * | 130 | `watch` was interrupted (Ctrl-C) |
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, broken: 4, interrupted: 130 } as const
export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** A failure with a message for people, extra lines of detail, and an exit code. */
export class CliError extends Error {
  override readonly name: string = 'CliError'
  readonly exitCode: ExitCode
  readonly details: readonly string[]
  constructor(message: string, { exitCode = EXIT.failed, details = [] }: { exitCode?: ExitCode; details?: readonly string[] } = {}) {
    super(message)
    this.exitCode = exitCode
    this.details = details
  }
}

/** A bad command line (or missing configuration): printed with the command's usage, exit 2. */
export class UsageError extends CliError {
  override readonly name = 'UsageError'
  /** The command whose usage to show; null shows the overview. */
  readonly command: string | null
  constructor(message: string, command: string | null = null) {
    super(message, { exitCode: EXIT.usage })
    this.command = command
  }
}

/** Configuration is missing or unusable (not logged in, a bad SENTRA_URL): exit 2, no usage text. */
export class ConfigError extends CliError {
  override readonly name = 'ConfigError'
  constructor(message: string) {
    super(message, { exitCode: EXIT.usage })
  }
}

/** One GraphQL error as the API sends it. */
export interface ApiErrorEntry {
  message: string
  code: string | null
  /** `extensions.issues` of a refused spec: every bad field. */
  issues: readonly { path: string; message: string }[]
}

/** The API answered with GraphQL errors: printed as `CODE: message`, exit 1. */
export class ApiError extends CliError {
  override readonly name = 'ApiError'
  readonly errors: readonly ApiErrorEntry[]
  constructor(errors: readonly ApiErrorEntry[]) {
    const [first, ...rest] = errors
    const line = (e: ApiErrorEntry): string => {
      const text = e.issues.length > 0 ? `invalid spec (${e.issues.length} ${e.issues.length === 1 ? 'problem' : 'problems'})` : e.message
      return e.code ? `${e.code}: ${text}` : text
    }
    const issues = errors.flatMap((e) => e.issues.map((i) => `  ${i.path === '' ? '(spec)' : i.path}: ${i.message}`))
    super(first ? line(first) : 'the API answered with an error', { details: [...rest.map(line), ...issues] })
    this.errors = errors
  }

  /** The first error's code, e.g. `CONFLICT`. */
  get code(): string | null {
    return this.errors[0]?.code ?? null
  }
}

/** The API could not be reached at `url` (refused, timed out, not an API): exit 3. */
export class NetworkError extends CliError {
  override readonly name = 'NetworkError'
  readonly url: string
  constructor(url: string, reason: string) {
    super(`cannot reach ${url}: ${reason}`, { exitCode: EXIT.unreachable })
    this.url = url
  }
}
