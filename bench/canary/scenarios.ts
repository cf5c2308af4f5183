/**
 * Scenario files: one JSON document per file in a directory (bench/canary/scenarios/ by
 * default), validated here with every problem named by its field. The format is documented
 * field by field in bench/canary/README.md; the types below are what the simulator reads.
 */
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import * as z from 'zod'

/** A scenario file larger than this is refused before parsing (they are a page of JSON). */
export const MAX_SCENARIO_BYTES = 64 * 1024
/** More files than this in one directory is a wrong directory, not a benchmark. */
export const MAX_SCENARIOS = 200

const finite = (what: string) => z.number({ error: `${what} must be a number` }).refine(Number.isFinite, `${what} must be a finite number`)
const fraction = (what: string) => finite(what).refine((x) => x >= 0 && x <= 1, `${what} must be between 0 and 1`)
const positive = (what: string) => finite(what).refine((x) => x > 0, `${what} must be above 0`)
const seconds = (what: string, min: number, max: number) =>
  z.number({ error: `${what} must be a whole number of seconds` }).int(`${what} must be a whole number of seconds`).min(min, `${what} must be at least ${min}`).max(max, `${what} must be at most ${max}`)
const multiplier = (what: string) => finite(what).refine((x) => x >= 1 && x <= 1000, `${what} must be between 1 and 1000 (1 = no change)`)

const version = z.strictObject({
  errorRate: fraction('errorRate'),
  latencyMedianMs: positive('latencyMedianMs').refine((x) => x <= 60_000, 'latencyMedianMs must be at most 60000'),
  latencySigma: finite('latencySigma').refine((x) => x >= 0 && x <= 3, 'latencySigma must be between 0 and 3'),
})

const scenarioSchema = z
  .strictObject({
    name: z.string({ error: 'name must be a string' }).regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'name must be lowercase letters, digits and dashes (at most 63)'),
    description: z.string({ error: 'description must be a string' }).max(500, 'description must be at most 500 characters').optional(),
    tickSeconds: seconds('tickSeconds', 1, 300),
    durationSeconds: seconds('durationSeconds', 10, 6 * 3600),
    traffic: z.strictObject({
      requestsPerSecond: positive('requestsPerSecond').refine((x) => x <= 5000, 'requestsPerSecond must be at most 5000 (the simulator draws every request)'),
      load: z
        .strictObject({
          amplitude: finite('amplitude').refine((x) => x >= 0 && x < 1, 'amplitude must be at least 0 and below 1'),
          periodSeconds: seconds('periodSeconds', 10, 7 * 86400),
        })
        .optional(),
      overdispersion: positive('overdispersion').nullable().optional(),
    }),
    baseline: version,
    canary: version.optional(),
    errorBursts: z
      .strictObject({
        meanGapSeconds: positive('meanGapSeconds'),
        seconds: seconds('seconds', 1, 3600),
        multiplier: multiplier('multiplier'),
      })
      .optional(),
    endpoints: z
      .array(z.strictObject({ name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'endpoint name must be lowercase letters, digits and dashes'), share: fraction('share') }))
      .max(20, 'at most 20 endpoints')
      .optional(),
    fault: z
      .strictObject({
        onsetSeconds: seconds('onsetSeconds', 0, 6 * 3600),
        shape: z.enum(['step', 'ramp'], { error: 'shape must be "step" or "ramp"' }),
        rampSeconds: seconds('rampSeconds', 1, 6 * 3600).optional(),
        errorMultiplier: multiplier('errorMultiplier').optional(),
        latencyMultiplier: multiplier('latencyMultiplier').optional(),
        tail: z.strictObject({ share: fraction('share'), multiplier: multiplier('multiplier') }).optional(),
        endpoint: z.string().optional(),
      })
      .nullable()
      .optional(),
    dataGaps: z
      .strictObject({
        missingProbability: fraction('missingProbability').refine((x) => x < 1, 'missingProbability must be below 1 (1 = no data at all)'),
        outages: z.array(z.strictObject({ fromSeconds: seconds('fromSeconds', 0, 6 * 3600), seconds: seconds('seconds', 1, 6 * 3600) })).max(50, 'at most 50 outages').optional(),
      })
      .optional(),
    expected: z.enum(['promote', 'rollback'], { error: 'expected must be "promote" or "rollback"' }),
  })
  .superRefine((s, ctx) => {
    const problem = (path: (string | number)[], message: string): void => ctx.addIssue({ code: 'custom', path, message })
    const shares = (s.endpoints ?? []).reduce((sum, e) => sum + e.share, 0)
    if (shares > 1 + 1e-9) problem(['endpoints'], `the endpoints' shares add up to ${shares}, more than 1`)
    const names = new Set<string>()
    for (const [i, e] of (s.endpoints ?? []).entries()) {
      if (names.has(e.name)) problem(['endpoints', i, 'name'], `endpoint "${e.name}" is listed twice`)
      names.add(e.name)
    }
    const fault = s.fault
    if (fault) {
      if (fault.shape === 'ramp' && fault.rampSeconds === undefined) problem(['fault', 'rampSeconds'], 'a ramp needs rampSeconds (how long until the full effect)')
      if (fault.shape === 'step' && fault.rampSeconds !== undefined) problem(['fault', 'rampSeconds'], 'rampSeconds is for shape "ramp" only')
      const effect = (fault.errorMultiplier ?? 1) > 1 || (fault.latencyMultiplier ?? 1) > 1 || (fault.tail !== undefined && fault.tail.share > 0 && fault.tail.multiplier > 1)
      if (!effect) problem(['fault'], 'a fault needs an effect: errorMultiplier or latencyMultiplier above 1, or a tail')
      if (fault.endpoint !== undefined && !names.has(fault.endpoint)) problem(['fault', 'endpoint'], `no endpoint named "${fault.endpoint}" in endpoints`)
      if (fault.onsetSeconds >= s.durationSeconds) problem(['fault', 'onsetSeconds'], `the onset (${fault.onsetSeconds} s) must come before the end (${s.durationSeconds} s)`)
    }
    if (s.expected === 'rollback' && !fault) problem(['expected'], 'a scenario expected to roll back needs a fault')
    if (s.tickSeconds > s.durationSeconds) problem(['tickSeconds'], 'tickSeconds must not exceed durationSeconds')
  })

type Parsed = z.infer<typeof scenarioSchema>
export type VersionParams = z.infer<typeof version>

/** A validated scenario, with defaults filled in (canary = baseline, no fault = null). */
export interface Scenario extends Omit<Parsed, 'canary' | 'fault' | 'endpoints'> {
  canary: VersionParams
  fault: NonNullable<Parsed['fault']> | null
  endpoints: { name: string; share: number }[]
  /** The file it came from (for messages). */
  file: string
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError'
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('')
}

/** Validates one parsed document; throws a {@link ScenarioError} naming `file` and each bad field. */
export function parseScenario(input: unknown, file = 'scenario'): Scenario {
  const parsed = scenarioSchema.safeParse(input)
  if (!parsed.success) {
    const seen = new Set<string>()
    const lines: string[] = []
    for (const issue of parsed.error.issues) {
      const where = pathOf(issue.path)
      if (seen.has(where)) continue
      seen.add(where)
      const message = issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message
      lines.push(where === '' ? message : `${where}: ${message}`)
    }
    throw new ScenarioError(`${file}: ${lines.slice(0, 10).join('; ')}${lines.length > 10 ? `; and ${lines.length - 10} more` : ''}`)
  }
  const s = parsed.data
  return { ...s, canary: s.canary ?? s.baseline, fault: s.fault ?? null, endpoints: s.endpoints ?? [], file }
}

/** Reads and validates one scenario file. */
export async function readScenarioFile(path: string): Promise<Scenario> {
  const info = await stat(path)
  if (info.size > MAX_SCENARIO_BYTES) throw new ScenarioError(`${path}: ${info.size} bytes; a scenario file may have at most ${MAX_SCENARIO_BYTES}`)
  const text = await readFile(path, 'utf8')
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    throw new ScenarioError(`${path}: not valid JSON (${error instanceof Error ? error.message : String(error)})`)
  }
  return parseScenario(document, path)
}

/** Every `*.json` in `dir`, sorted by file name, validated; names must be unique. */
export async function loadScenarios(dir: string): Promise<Scenario[]> {
  let entries: string[]
  try {
    entries = await readdir(dir)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new ScenarioError(code === 'ENOENT' ? `no scenario directory ${dir}` : code === 'ENOTDIR' ? `${dir} is not a directory` : `cannot read ${dir}: ${(error as Error).message}`)
  }
  const files = entries.filter((f) => f.endsWith('.json')).sort()
  if (files.length === 0) throw new ScenarioError(`no scenario files (*.json) in ${dir}`)
  if (files.length > MAX_SCENARIOS) throw new ScenarioError(`${files.length} scenario files in ${dir}; at most ${MAX_SCENARIOS}`)
  const scenarios: Scenario[] = []
  const byName = new Map<string, string>()
  for (const file of files) {
    const scenario = await readScenarioFile(join(dir, file))
    const other = byName.get(scenario.name)
    if (other !== undefined) throw new ScenarioError(`${scenario.file}: scenario name "${scenario.name}" is already used by ${other}`)
    byName.set(scenario.name, scenario.file)
    scenarios.push(scenario)
  }
  return scenarios
}
