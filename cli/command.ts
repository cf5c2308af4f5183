import type { Api } from './api.ts'
import type { ArgSpec, FlagSpec, ParsedArgs } from './args.ts'
import type { Env } from './config.ts'
import type { ExitCode } from './errors.ts'
import type { Io } from './io.ts'

export const OUTPUT_FORMATS = ['table', 'json'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

/** What a command runs with. */
export interface CommandContext {
  readonly parsed: ParsedArgs
  readonly output: OutputFormat
  readonly io: Io
  readonly env: Env
  /** The API client, from SENTRA_URL/SENTRA_TOKEN or the saved login (a ConfigError when neither). */
  connect(): Promise<Api>
}

/**
 * One `sentra` command. `run` checks its flags before it connects, so a bad flag never
 * sends a request, and resolves to the exit code.
 */
export interface Command {
  readonly name: string
  /** One line for the overview. */
  readonly summary: string
  readonly args: readonly ArgSpec[]
  readonly flags: readonly FlagSpec[]
  readonly examples: readonly string[]
  run(context: CommandContext): Promise<ExitCode>
}
