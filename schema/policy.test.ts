import { describe, expect, it } from 'vitest'
import { applyPolicy, checkGuardrails, parseGuardrails, parsePolicy, violationIssue, type GuardrailRules } from './policy.ts'
import { assertSpec } from './spec.ts'

const GATES = [{ name: 'errors', signal: 'errorRate', judge: { kind: 'sequential', alpha: 0.01 } }]
const STRATEGY = { canary: { steps: [{ setWeight: 5 }, { analyze: { min: '30s' } }, { setWeight: 50 }, { analyze: { min: '1m' } }] } }
const app = (extra: Record<string, unknown> = {}) => ({
  name: 'shop',
  target: { kind: 'process', listen: '127.0.0.1:18080', command: ['node', 'app.mjs'] },
  strategy: STRATEGY,
  gates: GATES,
  ...extra,
})

describe('parsePolicy', () => {
  it('accepts gates, a strategy, or both, validated as an application would validate them', () => {
    expect(parsePolicy({ name: 'standard-web', gates: GATES, strategy: STRATEGY }).ok).toBe(true)
    expect(parsePolicy({ name: 'gates-only', gates: GATES }).ok).toBe(true)
    // Analyze steps without gates of its own: the application brings them.
    expect(parsePolicy({ name: 'steps-only', strategy: STRATEGY, description: 'five, then fifty' }).ok).toBe(true)
    expect(parsePolicy('name: from-yaml\ninterval: 10s\n').ok).toBe(true)
  })

  it.each([
    ['no name', { gates: GATES }, 'name', /required|must/],
    ['a bad name', { name: 'Not_A_Label', gates: GATES }, 'name', /./],
    ['nothing to give', { name: 'empty' }, '', /at least one of strategy, gates, interval, inconclusiveLimit/],
    ['an unknown field', { name: 'x', gates: GATES, target: { kind: 'process' } }, 'target', /unknown field "target"/],
    ['a bad gate', { name: 'x', gates: [{ name: 'errors', signal: 'errorRate', judge: { kind: 'threshold', max: 7 } }] }, 'gates[0].judge.max', /./],
    ['a bad step', { name: 'x', strategy: { canary: { steps: [{ setWeight: 500 }] } } }, 'strategy.canary.steps[0].setWeight', /between 0 and 100/],
    ['a bad interval', { name: 'x', interval: 5 }, 'interval', /duration/],
    ['a prototype key', JSON.parse('{"name":"x","gates":[],"__proto__":{"polluted":true}}') as unknown, '__proto__', /./],
    ['not a mapping', [1, 2], '', /mapping/],
    ['oversized text', `name: x\ninterval: 10s\n#${'x'.repeat(300 * 1024)}`, '', /too large/],
  ])('refuses %s, naming the field', (_label, input, path, message) => {
    const result = parsePolicy(input)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.issues.map((i) => i.path)).toContain(path)
    expect(result.issues.find((i) => i.path === path)?.message).toMatch(message)
  })
})

describe('applyPolicy', () => {
  it('fills the fields the application leaves out; the application wins key by key', () => {
    const policy = { name: 'p', gates: GATES, strategy: STRATEGY, interval: '10s' }
    const { gates: _g, strategy: _s, ...bare } = app({ policy: 'p' })
    expect(assertSpec(applyPolicy(bare, policy))).toMatchObject({ gates: [{ name: 'errors' }], interval: '10s', policy: 'p' })
    const own = applyPolicy(app({ policy: 'p', interval: '2s' }), policy)
    expect(own.interval).toBe('2s')
    expect(own.strategy).toBe(STRATEGY)
    expect(applyPolicy({ name: 'x', gates: undefined }, policy).gates).toBe(GATES)
  })
})

describe('parseGuardrails', () => {
  it('accepts an environment (or *) and at least one rule', () => {
    expect(parseGuardrails({ environment: 'production', rules: { requireErrorGate: true, maxFirstStepWeight: 10, minAnalysis: '30s', allowedTargets: ['kubernetes'], forbidDryRun: true } }).ok).toBe(true)
    expect(parseGuardrails({ environment: '*', rules: { requireErrorGate: true } }).ok).toBe(true)
  })

  it.each([
    ['no environment', { rules: { requireErrorGate: true } }, 'environment'],
    ['a bad environment', { environment: 'Prod Env', rules: { requireErrorGate: true } }, 'environment'],
    ['no rules', { environment: 'prod', rules: {} }, 'rules'],
    ['an unknown rule', { environment: 'prod', rules: { requireErrorGates: true } }, 'rules.requireErrorGates'],
    ['a weight over 100', { environment: 'prod', rules: { maxFirstStepWeight: 150 } }, 'rules.maxFirstStepWeight'],
    ['a weight of 0', { environment: 'prod', rules: { maxFirstStepWeight: 0 } }, 'rules.maxFirstStepWeight'],
    ['a duration without unit', { environment: 'prod', rules: { minAnalysis: 30 } }, 'rules.minAnalysis'],
    ['an unknown target', { environment: 'prod', rules: { allowedTargets: ['vm'] } }, 'rules.allowedTargets[0]'],
    ['a string for a boolean', { environment: 'prod', rules: { forbidDryRun: 'yes' } }, 'rules.forbidDryRun'],
  ])('refuses %s, naming the field', (_label, input, path) => {
    const result = parseGuardrails(input)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.issues.map((i) => i.path)).toContain(path)
  })
})

describe('checkGuardrails', () => {
  const rules = (r: GuardrailRules) => ({ environment: 'production', rules: r })
  it.each([
    ['requireErrorGate: a latency gate only', app({ gates: [{ name: 'p95', signal: 'latencyP95', judge: { kind: 'threshold', max: 0.5 } }] }), { requireErrorGate: true }, 'gates', /needs at least one error gate/],
    ['maxFirstStepWeight', app({ strategy: { canary: { steps: [{ setWeight: 25 }, { analyze: { min: '30s' } }] } } }), { maxFirstStepWeight: 10 }, 'strategy.canary.steps[0].setWeight', /sends 25 % .* at most 10 %/],
    ['minAnalysis on a step', app(), { minAnalysis: '45s' }, 'strategy.canary.steps[1].analyze.min', /analyzes for 30s; at least 45s/],
    ['minAnalysis with no analysis', app({ strategy: { canary: { steps: [{ setWeight: 100 }] } } }), { minAnalysis: '10s' }, 'strategy.canary.steps', /has no analyze step/],
    ['minAnalysis on blue/green', app({ strategy: { blueGreen: { analyze: { min: '10s' } } } }), { minAnalysis: '1m' }, 'strategy.blueGreen.analyze.min', /analyzes for 10s; at least 1m/],
    ['allowedTargets', app(), { allowedTargets: ['kubernetes'] as GuardrailRules['allowedTargets'] }, 'target.kind', /is process; allowed here: kubernetes/],
    ['forbidDryRun', app({ gates: [{ ...GATES[0], dryRun: true }] }), { forbidDryRun: true }, 'gates[0].dryRun', /dry run/],
  ])('%s: names the field and the rule', (_label, input, r, path, message) => {
    const violations = checkGuardrails(assertSpec(input), rules(r))
    expect(violations).toHaveLength(1)
    expect(violations[0]).toMatchObject({ path, environment: 'production' })
    expect(violations[0]?.message).toMatch(message)
    expect(violationIssue(violations[0]!).message).toMatch(/\(guardrail of environment production: \w+\)$/)
  })

  it('passes a spec that satisfies every rule; Loki and Tempo gates count as error gates', () => {
    const all: GuardrailRules = { requireErrorGate: true, maxFirstStepWeight: 5, minAnalysis: '30s', allowedTargets: ['process'], forbidDryRun: true }
    expect(checkGuardrails(assertSpec(app()), rules(all))).toEqual([])
    const loki = app({ gates: [{ name: 'logs', provider: 'loki', query: 'sum(count_over_time({app="shop", version="{{version}}"} |= "ERROR" [{{window}}]))', judge: { kind: 'threshold', max: 5 } }] })
    expect(checkGuardrails(assertSpec(loki), rules({ requireErrorGate: true }))).toEqual([])
  })
})
