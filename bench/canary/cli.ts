/**
 * The benchmark's flags: `npm run bench -- canary [--scenarios DIR] [--runs N] [--seed S]
 * [--out DIR] [--only NAME,…] [--rules NAME,…]`. Parsed strictly: an unknown flag, a
 * missing or malformed value, or a flag given twice is an error that says which.
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const DEFAULT_RUNS = 50
export const MAX_RUNS = 100_000
export const RULE_NAMES = ['sentra', 'flagger', 'argo', 'kayenta'] as const
export type RuleName = (typeof RULE_NAMES)[number]

export interface CanaryOptions {
  scenarios: string
  runs: number
  seed: number
  out: string
  /** Scenario names to run; null = all. */
  only: string[] | null
  rules: RuleName[]
  help: boolean
}

export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export const USAGE = `usage: npm run bench -- canary [options]
  --scenarios DIR   scenario files (*.json); default bench/canary/scenarios
  --runs N          runs per scenario, 1..${MAX_RUNS}; default ${DEFAULT_RUNS}
  --seed S          seed, an integer 0..4294967295; default 1
  --out DIR         where results.json, results.md and results.svg go; default ${join(tmpdir(), 'sentra-bench', 'canary')}
  --only A,B        only these scenarios (by name)
  --rules A,B       only these rules (${RULE_NAMES.join(', ')}); default all
  --help            this text`

export function defaultOptions(): CanaryOptions {
  return {
    scenarios: fileURLToPath(new URL('./scenarios', import.meta.url)),
    runs: DEFAULT_RUNS,
    seed: 1,
    out: join(tmpdir(), 'sentra-bench', 'canary'),
    only: null,
    rules: [...RULE_NAMES],
    help: false,
  }
}

function integer(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`)
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${text}`)
  return n
}

function list(flag: string, text: string): string[] {
  const items = text.split(',').map((s) => s.trim())
  if (items.some((s) => s === '')) throw new UsageError(`${flag} takes a comma-separated list of names, got "${text}"`)
  return [...new Set(items)]
}

/** Parses the arguments after the benchmark's name. */
export function parseCanaryArgs(argv: readonly string[]): CanaryOptions {
  const options = defaultOptions()
  const seen = new Set<string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--help' || arg === '-h') {
      options.help = true
      continue
    }
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}" (flags start with --)`)
    const eq = arg.indexOf('=')
    const flag = eq === -1 ? arg : arg.slice(0, eq)
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1)
    if (!['--scenarios', '--runs', '--seed', '--out', '--only', '--rules'].includes(flag)) throw new UsageError(`unknown flag ${flag}`)
    if (seen.has(flag)) throw new UsageError(`${flag} is given twice`)
    seen.add(flag)
    if (value === undefined) {
      value = argv[i + 1]
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`)
      i++
    }
    if (value === '') throw new UsageError(`${flag} needs a value`)
    switch (flag) {
      case '--scenarios':
        options.scenarios = value
        break
      case '--out':
        options.out = value
        break
      case '--runs':
        options.runs = integer('--runs', value, 1, MAX_RUNS)
        break
      case '--seed':
        options.seed = integer('--seed', value, 0, 0xffffffff)
        break
      case '--only':
        options.only = list('--only', value)
        break
      case '--rules': {
        const names = list('--rules', value)
        const unknown = names.filter((n) => !(RULE_NAMES as readonly string[]).includes(n))
        if (unknown.length > 0) throw new UsageError(`unknown rule${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}; the rules are ${RULE_NAMES.join(', ')}`)
        options.rules = names as RuleName[]
        break
      }
    }
  }
  return options
}
