import { UsageError } from './errors.ts'

/** A flag a command accepts: `--name VALUE` (or `--name=VALUE`), or a switch when `value` is absent. */
export interface FlagSpec {
  readonly name: string
  readonly short?: string
  /** Placeholder shown in usage (`R`, `FILE`); absent for a switch such as `--full`. */
  readonly value?: string
  readonly description: string
}

/** A positional argument; every one is required. */
export interface ArgSpec {
  readonly name: string
  readonly description: string
}

export interface ParsedArgs {
  readonly positionals: readonly string[]
  /** `--name VALUE` flags by name, and switches given as `true`. */
  readonly flags: Readonly<Record<string, string | true>>
}

/**
 * Parses a command's arguments strictly: unknown flags, repeated flags, a flag without its
 * value, a value given to a switch, and missing or extra positionals are all usage errors
 * naming the problem. `--` ends the flags; a lone `-` is a positional (stdin).
 */
export function parseArgs(argv: readonly string[], spec: { name: string; args: readonly ArgSpec[]; flags: readonly FlagSpec[] }): ParsedArgs {
  const positionals: string[] = []
  const flags: Record<string, string | true> = {}
  const byLong = new Map(spec.flags.map((f) => [f.name, f]))
  const byShort = new Map(spec.flags.filter((f) => f.short).map((f) => [f.short!, f]))
  const fail = (message: string): never => {
    throw new UsageError(message, spec.name)
  }

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!
    if (token === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (!token.startsWith('-') || token === '-') {
      positionals.push(token)
      continue
    }
    const long = token.startsWith('--')
    const eq = token.indexOf('=')
    const key = long ? token.slice(2, eq === -1 ? undefined : eq) : token.slice(1, eq === -1 ? undefined : eq)
    const shown = long ? `--${key}` : `-${key}`
    const flag = long ? byLong.get(key) : byShort.get(key)
    if (!flag) fail(`unknown flag ${shown} for \`sentra ${spec.name}\``)
    const known = flag!
    if (Object.hasOwn(flags, known.name)) fail(`--${known.name} is given more than once`)
    const inline = eq === -1 ? undefined : token.slice(eq + 1)
    if (known.value === undefined) {
      if (inline !== undefined) fail(`--${known.name} takes no value`)
      flags[known.name] = true
      continue
    }
    let value = inline
    if (value === undefined) {
      const next = argv[i + 1]
      if (next === undefined || (next.startsWith('-') && next !== '-')) {
        fail(`--${known.name} needs a value (${known.value})${next === undefined ? '' : `; for a value starting with "-", write --${known.name}=VALUE`}`)
      }
      value = next!
      i++
    }
    flags[known.name] = value
  }

  const [missing] = spec.args.slice(positionals.length)
  if (missing) fail(`missing <${missing.name}>`)
  const extra = positionals[spec.args.length]
  if (extra !== undefined) fail(`unexpected argument ${JSON.stringify(extra)}`)
  return { positionals, flags }
}

/** The value of a `--name VALUE` flag, or undefined when it was not given. */
export function flagValue(parsed: ParsedArgs, name: string): string | undefined {
  const value = parsed.flags[name]
  return typeof value === 'string' ? value : undefined
}

/** Whether a switch was given. */
export function flagSet(parsed: ParsedArgs, name: string): boolean {
  return parsed.flags[name] === true
}
