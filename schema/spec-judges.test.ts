/**
 * The mannWhitney and anomaly judge kinds in the application spec: defaults, the shared
 * Kayenta score thresholds, and a clear, field-level error for every bad input (in the style
 * of spec.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { stringify as stringifyYaml } from 'yaml'
import { type AppSpec, type SpecIssue, parseSpec } from './spec.ts'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>

/** A valid document with one mannWhitney gate and one anomaly gate. */
function base(): Doc {
  return {
    name: 'checkout',
    target: { kind: 'process', listen: '127.0.0.1:8080', command: ['node', 'server.mjs'] },
    strategy: { canary: { steps: [{ setWeight: 10 }, { analyze: { min: '20s' } }] } },
    gates: [
      { name: 'p95', signal: 'latencyP95', judge: { kind: 'mannWhitney' } },
      { name: 'stable-errors', signal: 'errorRate', judge: { kind: 'anomaly' } },
    ],
  }
}

function issuesOf(input: unknown): SpecIssue[] {
  const result = parseSpec(input)
  if (result.ok) throw new Error(`expected issues, got a valid spec: ${JSON.stringify(result.spec)}`)
  return result.issues
}

function specOf(input: unknown): AppSpec {
  const result = parseSpec(input)
  if (!result.ok) throw new Error(`expected a valid spec, got ${JSON.stringify(result.issues, null, 2)}`)
  return result.spec
}

describe('valid mannWhitney and anomaly judges', () => {
  it('fills the defaults (Kayenta: tolerance 0.25, confidence 0.98, score 95/75)', () => {
    const spec = specOf(base())
    expect(spec.gates[0]!.judge).toEqual({
      kind: 'mannWhitney',
      direction: 'increase',
      allowedIncrease: 1,
      allowedDecrease: 1,
      critical: false,
      tolerance: 0.25,
      confidence: 0.98,
      weight: 1,
      minSamples: 10,
      maxSamples: 60,
      scoreThresholds: { pass: 95, marginal: 75 },
    })
    expect(spec.gates[1]!.judge).toEqual({
      kind: 'anomaly',
      subject: 'canary',
      direction: 'increase',
      falseAlarmRate: 0.001,
      window: '30m',
      windowMs: 1_800_000,
    })
  })

  it('keeps what is written, and the normalized spec parses to itself', () => {
    const doc = base()
    doc.gates[0].judge = {
      kind: 'mannWhitney',
      direction: 'either',
      allowedIncrease: 1.1,
      allowedDecrease: 0.9,
      critical: true,
      criticalIncrease: 5,
      criticalDecrease: 0.5,
      tolerance: 0.1,
      confidence: 0.95,
      weight: 3,
      minSamples: 20,
      maxSamples: 100,
      scoreThresholds: { pass: 90, marginal: 50 },
    }
    doc.gates[1].judge = { kind: 'anomaly', subject: 'baseline', direction: 'either', falseAlarmRate: 0.01, window: '2h', season: '1h', minDeviation: '0.5%' }
    const spec = specOf(doc)
    expect(spec.gates[0]!.judge).toEqual(doc.gates[0].judge)
    expect(spec.gates[1]!.judge).toEqual({
      kind: 'anomaly',
      subject: 'baseline',
      direction: 'either',
      falseAlarmRate: 0.01,
      window: '2h',
      windowMs: 7_200_000,
      season: '1h',
      seasonMs: 3_600_000,
      minDeviation: 0.005,
    })
    expect(specOf(spec)).toEqual(spec)
    expect(specOf(base())).toEqual(specOf(specOf(base())))
  })

  it('critical defaults the critical ratios to 1 (as Kayenta)', () => {
    const doc = base()
    doc.gates[0].judge = { kind: 'mannWhitney', critical: true }
    expect(specOf(doc).gates[0]!.judge).toMatchObject({ critical: true, criticalIncrease: 1, criticalDecrease: 1 })
  })

  it('shares one pair of score thresholds across every mannWhitney gate', () => {
    const doc = base()
    doc.gates.push({ name: 'cpu', provider: 'prometheus', query: 'cpu{version="{{version}}"}', judge: { kind: 'mannWhitney', scoreThresholds: { pass: 80, marginal: 60 } } })
    doc.gates.push({ name: 'mem', provider: 'prometheus', query: 'mem{version="{{version}}"}', judge: { kind: 'mannWhitney', scoreThresholds: { pass: 80, marginal: 60 } } })
    const thresholds = specOf(doc).gates.filter((g) => g.judge.kind === 'mannWhitney').map((g) => (g.judge.kind === 'mannWhitney' ? g.judge.scoreThresholds : null))
    expect(thresholds).toEqual([{ pass: 80, marginal: 60 }, { pass: 80, marginal: 60 }, { pass: 80, marginal: 60 }])
  })

  it('maxSamples follows a large minSamples when not given', () => {
    const doc = base()
    doc.gates[0].judge = { kind: 'mannWhitney', minSamples: 100 }
    expect(specOf(doc).gates[0]!.judge).toMatchObject({ minSamples: 100, maxSamples: 100 })
  })

  it('takes both kinds on provider queries', () => {
    const doc = base()
    doc.gates = [
      { name: 'q1', provider: 'prometheus', query: 'x{version="{{version}}"}', judge: { kind: 'mannWhitney' } },
      { name: 'q2', provider: 'loki', query: 'sum(rate({version="{{version}}"}[1m]))', judge: { kind: 'anomaly', minDeviation: 5 } },
    ]
    expect(specOf(doc).gates.map((g) => g.judge.kind)).toEqual(['mannWhitney', 'anomaly'])
  })
})

type Mutation = (doc: Doc) => void
interface BadCase {
  name: string
  mutate: Mutation
  path: string
  message: string
}

const mw = (judge: Doc): Mutation => (d) => (d.gates[0].judge = { kind: 'mannWhitney', ...judge })
const an = (judge: Doc): Mutation => (d) => (d.gates[1].judge = { kind: 'anomaly', ...judge })

const bad: BadCase[] = [
  // kind
  { name: 'misspelled kind', mutate: (d) => (d.gates[0].judge = { kind: 'mannwhitney' }), path: 'gates[0].judge.kind', message: 'did you mean "mannWhitney"?' },
  { name: 'kind list names the new kinds', mutate: (d) => (d.gates[0].judge = { kind: 'kayenta' }), path: 'gates[0].judge.kind', message: 'must be one of threshold, relative, sequential, mannWhitney, anomaly' },
  // mannWhitney: direction
  { name: 'direction misspelled', mutate: mw({ direction: 'increse' }), path: 'gates[0].judge.direction', message: 'did you mean "increase"?' },
  { name: 'direction not a string', mutate: mw({ direction: 1 }), path: 'gates[0].judge.direction', message: 'must be one of: increase, decrease, either (got the number 1)' },
  // allowed ratios
  { name: 'allowedIncrease below 1', mutate: mw({ allowedIncrease: 0.9 }), path: 'gates[0].judge.allowedIncrease', message: 'must be at least 1 (a mean ratio' },
  { name: 'allowedIncrease huge', mutate: mw({ allowedIncrease: 1e9 }), path: 'gates[0].judge.allowedIncrease', message: 'must be at most 1000' },
  { name: 'allowedIncrease as text', mutate: mw({ allowedIncrease: '10%' }), path: 'gates[0].judge.allowedIncrease', message: 'must be a number (got the text "10%")' },
  { name: 'allowedDecrease 0', mutate: mw({ allowedDecrease: 0 }), path: 'gates[0].judge.allowedDecrease', message: 'must be greater than 0 and at most 1' },
  { name: 'allowedDecrease above 1', mutate: mw({ allowedDecrease: 1.2 }), path: 'gates[0].judge.allowedDecrease', message: 'must be greater than 0 and at most 1' },
  { name: 'allowedDecrease negative', mutate: mw({ allowedDecrease: -0.5 }), path: 'gates[0].judge.allowedDecrease', message: 'must be greater than 0' },
  // critical
  { name: 'critical as text', mutate: mw({ critical: 'yes' }), path: 'gates[0].judge.critical', message: 'must be true or false (got the text "yes")' },
  { name: 'criticalIncrease without critical', mutate: mw({ criticalIncrease: 5 }), path: 'gates[0].judge.criticalIncrease', message: 'is used with critical: true' },
  { name: 'criticalDecrease with critical false', mutate: mw({ critical: false, criticalDecrease: 0.5 }), path: 'gates[0].judge.criticalDecrease', message: 'is used with critical: true' },
  { name: 'criticalIncrease below allowedIncrease', mutate: mw({ critical: true, allowedIncrease: 2, criticalIncrease: 1.5 }), path: 'gates[0].judge.criticalIncrease', message: 'must be at least allowedIncrease (2)' },
  { name: 'criticalDecrease above allowedDecrease', mutate: mw({ critical: true, allowedDecrease: 0.5, criticalDecrease: 0.8 }), path: 'gates[0].judge.criticalDecrease', message: 'must be at most allowedDecrease (0.5)' },
  { name: 'criticalIncrease below 1', mutate: mw({ critical: true, criticalIncrease: 0.5 }), path: 'gates[0].judge.criticalIncrease', message: 'must be at least 1' },
  // tolerance, confidence, weight
  { name: 'tolerance negative', mutate: mw({ tolerance: -0.1 }), path: 'gates[0].judge.tolerance', message: 'must be at least 0 and less than 1' },
  { name: 'tolerance 1 (never High)', mutate: mw({ tolerance: 1 }), path: 'gates[0].judge.tolerance', message: 'must be at least 0 and less than 1' },
  { name: 'confidence as percent', mutate: mw({ confidence: 98 }), path: 'gates[0].judge.confidence', message: 'must be between 0.5 and 0.9999' },
  { name: 'confidence 1', mutate: mw({ confidence: 1 }), path: 'gates[0].judge.confidence', message: 'must be between 0.5 and 0.9999' },
  { name: 'confidence too low', mutate: mw({ confidence: 0.3 }), path: 'gates[0].judge.confidence', message: 'must be between 0.5 and 0.9999' },
  { name: 'weight 0', mutate: mw({ weight: 0 }), path: 'gates[0].judge.weight', message: 'must be greater than 0 and at most 1000' },
  { name: 'weight negative', mutate: mw({ weight: -3 }), path: 'gates[0].judge.weight', message: 'must be greater than 0' },
  { name: 'weight huge', mutate: mw({ weight: 1e6 }), path: 'gates[0].judge.weight', message: 'at most 1000' },
  // samples
  { name: 'minSamples below 5', mutate: mw({ minSamples: 2 }), path: 'gates[0].judge.minSamples', message: 'must be a whole number between 5 and 600' },
  { name: 'minSamples fractional', mutate: mw({ minSamples: 7.5 }), path: 'gates[0].judge.minSamples', message: 'must be a whole number between 5 and 600' },
  { name: 'maxSamples over the history', mutate: mw({ maxSamples: 10_000 }), path: 'gates[0].judge.maxSamples', message: 'must be a whole number between 5 and 600' },
  { name: 'maxSamples below minSamples', mutate: mw({ minSamples: 30, maxSamples: 20 }), path: 'gates[0].judge.maxSamples', message: 'must be at least minSamples (30)' },
  // scoreThresholds
  { name: 'scoreThresholds not a mapping', mutate: mw({ scoreThresholds: 95 }), path: 'gates[0].judge.scoreThresholds', message: 'must be a mapping (got the number 95); write e.g. "scoreThresholds: { pass: 95, marginal: 75 }"' },
  { name: 'pass over 100', mutate: mw({ scoreThresholds: { pass: 150 } }), path: 'gates[0].judge.scoreThresholds.pass', message: 'must be at least 0 and at most 100' },
  { name: 'marginal negative', mutate: mw({ scoreThresholds: { marginal: -1 } }), path: 'gates[0].judge.scoreThresholds.marginal', message: 'must be at least 0 and at most 100' },
  { name: 'marginal above pass', mutate: mw({ scoreThresholds: { pass: 70, marginal: 80 } }), path: 'gates[0].judge.scoreThresholds.marginal', message: 'must be at most pass (70)' },
  { name: 'marginal above the default pass', mutate: mw({ scoreThresholds: { marginal: 99 } }), path: 'gates[0].judge.scoreThresholds.marginal', message: 'must be at most pass (95)' },
  { name: 'misspelled threshold', mutate: mw({ scoreThresholds: { passs: 90 } }), path: 'gates[0].judge.scoreThresholds.passs', message: 'did you mean "pass"?' },
  {
    name: 'thresholds that disagree between gates',
    mutate: (d) => {
      d.gates[0].judge = { kind: 'mannWhitney', scoreThresholds: { pass: 90 } }
      d.gates.push({ name: 'cpu', provider: 'prometheus', query: 'cpu{v="{{version}}"}', judge: { kind: 'mannWhitney', scoreThresholds: { pass: 80 } } })
    },
    path: 'gates[2].judge.scoreThresholds',
    message: "must be the same on every mannWhitney gate (gates[0] has pass 90, marginal 75): Kayenta's score is one score over all of them",
  },
  // fields of other kinds
  { name: 'alpha on mannWhitney', mutate: mw({ alpha: 0.01 }), path: 'gates[0].judge.alpha', message: 'alpha is used with kind: sequential' },
  { name: 'falseAlarmRate on mannWhitney', mutate: mw({ falseAlarmRate: 0.01 }), path: 'gates[0].judge.falseAlarmRate', message: 'is used with kind: anomaly' },
  { name: 'allowedIncrease on a threshold', mutate: (d) => (d.gates[0].judge = { kind: 'threshold', max: 1, allowedIncrease: 2 }), path: 'gates[0].judge.allowedIncrease', message: 'is used with kind: mannWhitney' },
  { name: 'direction on a relative judge', mutate: (d) => (d.gates[0].judge = { kind: 'relative', maxRatio: 2, direction: 'increase' }), path: 'gates[0].judge.direction', message: 'is used with kind: mannWhitney or anomaly' },
  { name: 'unknown mannWhitney field', mutate: mw({ nanStrategy: 'remove' }), path: 'gates[0].judge.nanStrategy', message: 'unknown field "nanStrategy"' },
  // anomaly
  { name: 'subject misspelled', mutate: an({ subject: 'stable' }), path: 'gates[1].judge.subject', message: 'must be one of: canary, baseline (got the text "stable")' },
  { name: 'falseAlarmRate 0', mutate: an({ falseAlarmRate: 0 }), path: 'gates[1].judge.falseAlarmRate', message: 'must be greater than 0 and at most 0.1' },
  { name: 'falseAlarmRate as percent', mutate: an({ falseAlarmRate: 1 }), path: 'gates[1].judge.falseAlarmRate', message: 'must be greater than 0 and at most 0.1' },
  { name: 'falseAlarmRate as text', mutate: an({ falseAlarmRate: '0.1%' }), path: 'gates[1].judge.falseAlarmRate', message: 'must be a number' },
  { name: 'window without unit', mutate: an({ window: 600 }), path: 'gates[1].judge.window', message: 'must be a duration with a unit, such as "600s"' },
  { name: 'window too short', mutate: an({ window: '30s' }), path: 'gates[1].judge.window', message: 'must be between 1m and 24h (got "30s")' },
  { name: 'window too long', mutate: an({ window: '200h' }), path: 'gates[1].judge.window', message: 'the limit is 24h' },
  { name: 'window in days', mutate: an({ window: '30d' }), path: 'gates[1].judge.window', message: 'has an unknown unit "d"' },
  { name: 'window garbage', mutate: an({ window: 'soon' }), path: 'gates[1].judge.window', message: 'soon' },
  { name: 'windowMs that disagrees', mutate: an({ window: '10m', windowMs: 5 }), path: 'gates[1].judge.windowMs', message: 'does not match window ("10m" is 600000 ms); remove windowMs' },
  { name: 'seasonMs without season', mutate: an({ seasonMs: 60_000 }), path: 'gates[1].judge.seasonMs', message: 'is derived from season' },
  { name: 'season too short', mutate: an({ season: '10s' }), path: 'gates[1].judge.season', message: 'must be between 1m and 24h' },
  { name: 'window shorter than two seasons', mutate: an({ season: '1h', window: '90m' }), path: 'gates[1].judge.window', message: 'must be at least twice the season (1h)' },
  { name: 'season with the default window', mutate: an({ season: '1h' }), path: 'gates[1].judge.window', message: 'must be at least twice the season (1h)' },
  { name: 'minDeviation negative on a query', mutate: (d) => (d.gates[1] = { name: 'q', provider: 'prometheus', query: 'x{v="{{version}}"}', judge: { kind: 'anomaly', minDeviation: -1 } }), path: 'gates[1].judge.minDeviation', message: 'must be at least 0' },
  { name: 'minDeviation over the range', mutate: an({ minDeviation: 2 }), path: 'gates[1].judge.minDeviation', message: 'must be between 0 and 1 (errorRate is a fraction' },
  { name: 'minDeviation percent on latency', mutate: (d) => (d.gates[1] = { name: 'lat', signal: 'latencyP95', judge: { kind: 'anomaly', minDeviation: '5%' } }), path: 'gates[1].judge.minDeviation', message: 'may only be a percentage for the fraction signals' },
  { name: 'minDeviation text', mutate: an({ minDeviation: 'big' }), path: 'gates[1].judge.minDeviation', message: 'must be a number (or, for fractions, a percentage such as "2%")' },
  { name: 'maxRatio on anomaly', mutate: an({ maxRatio: 2 }), path: 'gates[1].judge.maxRatio', message: 'maxRatio is used with kind: relative' },
  { name: 'weight on anomaly', mutate: an({ weight: 2 }), path: 'gates[1].judge.weight', message: 'weight is used with kind: mannWhitney' },
]

describe('bad mannWhitney and anomaly judges', () => {
  it('has a good number of cases', () => {
    expect(bad.length).toBeGreaterThanOrEqual(50)
  })

  it.each(bad)('$name -> $path', ({ mutate, path, message }) => {
    const doc = base()
    mutate(doc)
    const issues = issuesOf(doc)
    const match = issues.find((issue) => issue.path === path)
    expect(match, `no issue at "${path}" in ${JSON.stringify(issues, null, 2)}`).toBeDefined()
    expect(match?.message).toContain(message)
  })

  it.each(bad)('$name, as YAML and as JSON text, gives the same issues', ({ mutate }) => {
    const doc = base()
    mutate(doc)
    const expected = issuesOf(doc)
    expect(issuesOf(stringifyYaml(doc))).toEqual(expected)
    expect(issuesOf(JSON.stringify(doc, null, 2))).toEqual(expected)
  })

  it('rejects hostile values: non-finite numbers, non-plain data, huge inputs', () => {
    const doc = base()
    doc.gates[0].judge = { kind: 'mannWhitney', weight: Number.POSITIVE_INFINITY, tolerance: Number.NaN }
    doc.gates[1].judge = { kind: 'anomaly', falseAlarmRate: Number.NEGATIVE_INFINITY }
    expect(issuesOf(doc)).toEqual([
      { path: 'gates[0].judge.weight', message: 'must be a finite number (got Infinity)' },
      { path: 'gates[0].judge.tolerance', message: 'must be a finite number (got NaN)' },
      { path: 'gates[1].judge.falseAlarmRate', message: 'must be a finite number (got -Infinity)' },
    ])
    const proxy = base()
    proxy.gates[0].judge = { kind: 'mannWhitney', scoreThresholds: new Proxy({ pass: 95 }, {}) }
    expect(issuesOf(proxy)).toContainEqual({ path: 'gates[0].judge.scoreThresholds', message: 'must be plain data (got a Proxy)' })
    const long = base()
    long.gates[1].judge = { kind: 'anomaly', season: `${'9'.repeat(5000)}h` }
    expect(issuesOf(long).map((i) => i.path)).toContain('gates[1].judge.season')
    const prototype = base()
    prototype.gates[0].judge = JSON.parse('{"kind": "mannWhitney", "__proto__": {"critical": true}}')
    expect(issuesOf(prototype).map((i) => i.path)).toContain('gates[0].judge.__proto__')
  })

  it('a rejected spec changes nothing: the input is not mutated', () => {
    const doc = base()
    doc.gates[0].judge = { kind: 'mannWhitney', weight: -1 }
    const before = JSON.stringify(doc)
    issuesOf(doc)
    expect(JSON.stringify(doc)).toBe(before)
  })
})
