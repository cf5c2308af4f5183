/**
 * The spec fields of evidence-driven rollouts: a sequential judge's `margin` and
 * `strategy.canary.adaptive`. Valid documents normalize with their defaults; every bad value
 * is an issue naming its field, and through the API a rejected document changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApi, type TestApi } from '../test/support/api.ts'
import { parseSpec } from './spec.ts'

const STEPS = [{ setWeight: 10 }, { analyze: { min: '20s' } }, { setWeight: 50 }, { analyze: { min: '20s' } }]

function doc({ adaptive, errors, latency, steps = STEPS }: { adaptive?: unknown; errors?: unknown; latency?: unknown; steps?: unknown } = {}): Record<string, unknown> {
  return {
    name: 'shop',
    target: { kind: 'process', listen: '127.0.0.1:8080', command: ['node', 'shop.mjs'] },
    strategy: { canary: { steps, ...(adaptive !== undefined ? { adaptive } : {}) } },
    gates: [
      { name: 'errors', signal: 'errorRate', judge: { kind: 'sequential', ...(errors !== undefined ? { margin: errors } : {}) } },
      { name: 'latency', signal: 'latencyP95', judge: { kind: 'sequential', ...(latency !== undefined ? { margin: latency } : {}) } },
    ],
  }
}

function issues(input: Record<string, unknown>): { path: string; message: string }[] {
  const result = parseSpec(input)
  if (result.ok) throw new Error('expected the spec to be rejected')
  return result.issues
}

describe('sequential judge margin', () => {
  it('reads points of errors and a share of latency, as numbers or percentages', () => {
    const result = parseSpec(doc({ errors: '0.5%', latency: '50%' }))
    expect(result.ok && result.spec.gates.map((g) => g.judge)).toEqual([
      { kind: 'sequential', alpha: 0.01, margin: 0.005 },
      { kind: 'sequential', alpha: 0.01, margin: 0.5 },
    ])
    const numbers = parseSpec(doc({ errors: 0.01, latency: 2 }))
    expect(numbers.ok && numbers.spec.gates.map((g) => (g.judge.kind === 'sequential' ? g.judge.margin : null))).toEqual([0.01, 2])
  })

  it('leaves the margin unset when not given (the judge’s defaults apply)', () => {
    const result = parseSpec(doc())
    expect(result.ok && result.spec.gates[0]!.judge).toEqual({ kind: 'sequential', alpha: 0.01 })
  })

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['zero', doc({ errors: 0 }), 'gates[0].judge.margin', /above 0 and at most 50 percentage points, e\.g\. "0\.5%"/],
    ['negative', doc({ errors: -0.01 }), 'gates[0].judge.margin', /above 0 and at most 50 percentage points/],
    ['over 50 points', doc({ errors: '60%' }), 'gates[0].judge.margin', /at most 50 percentage points/],
    ['a word', doc({ errors: 'small' }), 'gates[0].judge.margin', /must be a number/],
    ['a list', doc({ errors: [0.01] }), 'gates[0].judge.margin', /must be a number/],
    ['latency over 1000 %', doc({ latency: 20 }), 'gates[1].judge.margin', /allowed slowdown above 0 and at most 1000 %/],
    ['latency zero', doc({ latency: '0%' }), 'gates[1].judge.margin', /allowed slowdown above 0/],
  ])('rejects a %s margin, naming the field', (_name, input, path, message) => {
    const found = issues(input)
    expect(found).toHaveLength(1)
    expect(found[0]!.path).toBe(path)
    expect(found[0]!.message).toMatch(message)
  })

  it('rejects margin on other judges as a field of the sequential judge', () => {
    const input = doc()
    ;(input.gates as Record<string, unknown>[])[0] = { name: 'errors', signal: 'errorRate', judge: { kind: 'threshold', max: 0.01, margin: 0.01 } }
    const found = issues(input)
    expect(found.map((i) => i.path)).toEqual(['gates[0].judge.margin'])
  })
})

describe('strategy.canary.adaptive', () => {
  it('normalizes with the default risk', () => {
    const result = parseSpec(doc({ adaptive: { maxStep: 40 } }))
    expect(result.ok && result.spec.strategy.canary?.adaptive).toEqual({ maxStep: 40, risk: 0.5 })
    const given = parseSpec(doc({ adaptive: { maxStep: 100, risk: 0 } }))
    expect(given.ok && given.spec.strategy.canary?.adaptive).toEqual({ maxStep: 100, risk: 0 })
    const none = parseSpec(doc())
    expect(none.ok && none.spec.strategy.canary?.adaptive).toBeUndefined()
  })

  it.each<[string, unknown, string, RegExp]>([
    ['no maxStep', {}, 'strategy.canary.adaptive.maxStep', /is required: the largest weight increase in one step/],
    ['maxStep 0', { maxStep: 0 }, 'strategy.canary.adaptive.maxStep', /between 1 and 100 percentage points/],
    ['maxStep 101', { maxStep: 101 }, 'strategy.canary.adaptive.maxStep', /between 1 and 100 percentage points/],
    ['a fractional maxStep', { maxStep: 12.5 }, 'strategy.canary.adaptive.maxStep', /whole number of percentage points/],
    ['maxStep as text', { maxStep: '40' }, 'strategy.canary.adaptive.maxStep', /number/],
    ['risk 1', { maxStep: 40, risk: 1 }, 'strategy.canary.adaptive.risk', /at least 0 and below 1/],
    ['a negative risk', { maxStep: 40, risk: -0.1 }, 'strategy.canary.adaptive.risk', /at least 0 and below 1/],
    ['risk as a word', { maxStep: 40, risk: 'high' }, 'strategy.canary.adaptive.risk', /number/],
    ['an unknown field', { maxStep: 40, speed: 'fast' }, 'strategy.canary.adaptive.speed', /unknown field "speed"; expected one of maxStep, risk/],
    ['not a mapping', 'fast', 'strategy.canary.adaptive', /must be a mapping .*adaptive: \{ maxStep: 40, risk: 0\.5 \}/],
    ['null', null, 'strategy.canary.adaptive', /mapping/],
  ])('rejects %s, naming the field', (_name, adaptive, path, message) => {
    const found = issues(doc({ adaptive }))
    expect(found.map((i) => i.path)).toContain(path)
    expect(found.find((i) => i.path === path)!.message).toMatch(message)
  })

  it('says when there is nothing to adapt', () => {
    const found = issues(doc({ adaptive: { maxStep: 40 }, steps: [{ setWeight: 10 }, { setWeight: 50 }] }))
    expect(found).toEqual([{ path: 'strategy.canary.adaptive', message: 'needs analyze steps followed by setWeight steps to act on; without them it changes nothing' }])
  })

  it('is not a field of blue/green', () => {
    const input = { ...doc(), strategy: { blueGreen: { adaptive: { maxStep: 40 } } } }
    expect(issues(input).map((i) => i.path)).toEqual(['strategy.blueGreen.adaptive'])
  })
})

describe('through the API: a bad adaptive block is rejected and changes nothing', () => {
  let api: TestApi
  beforeAll(async () => {
    api = await startTestApi('sqlite')
  })
  afterAll(async () => {
    await api?.close()
  })

  it('names the field in extensions.path and writes no application', async () => {
    const result = await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: doc({ adaptive: { maxStep: 0 } }) })
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'strategy.canary.adaptive.maxStep' })
    expect(await api.store.applications.byName('shop')).toBeNull()
    const ok = await api.gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id } }`, { spec: doc({ adaptive: { maxStep: 40 }, errors: '0.5%' }) })
    expect(ok.errors).toBeUndefined()
  })
})
