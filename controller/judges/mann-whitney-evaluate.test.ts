/**
 * End to end through the controller's evaluateGates: a telemetry provider (the
 * TelemetryProvider interface itself, implemented here over a deterministic series) answers
 * each tick, the loop's history is kept between ticks as controller/tick.ts keeps it, and
 * the mannWhitney and anomaly gates are judged by the real judges and the Kayenta score.
 */
import { describe, expect, it } from 'vitest'
import { type AppSpec, assertSpec } from '../../schema/spec.ts'
import { type GateEvaluation, evaluateGates, providerKey } from '../evaluate.ts'
import type { TelemetryProvider, WindowQuery, WindowSample } from '../telemetry/provider.ts'

const EPOCH = Date.UTC(2025, 0, 1, 12, 0, 0)

type Series = (minute: number) => { canary: Record<string, number | null>; baseline: Record<string, number | null> }

/** A provider whose values at minute m come from `series`; each window reports its end minute's values. */
class SeriesProvider implements TelemetryProvider {
  readonly kind = 'builtin'
  readonly #series: Series
  failing = false

  constructor(series: Series) {
    this.#series = series
  }

  async sample(q: WindowQuery): Promise<WindowSample> {
    if (this.failing) throw new Error('connection refused')
    const minute = Math.round((q.end.getTime() - EPOCH) / 60_000)
    const values = this.#series(minute)
    return {
      provider: this.kind,
      start: q.start,
      end: q.end,
      canaryWeight: q.canaryWeight,
      canary: { version: q.canaryVersion, requests: 5000, errors: 0, values: values.canary },
      baseline: { version: q.baselineVersion ?? 'none', requests: 45_000, errors: 0, values: values.baseline },
    }
  }

  async ping(): Promise<void> {}
}

function appSpec(gates: unknown[]): AppSpec {
  return assertSpec({
    name: 'shop',
    target: { kind: 'process', listen: '127.0.0.1:9', command: ['node', 'x.mjs'] },
    strategy: { canary: { steps: [{ setWeight: 10 }, { analyze: { min: '1m' } }] } },
    gates,
    interval: '1m',
  })
}

/** Ticks once a minute for `minutes` minutes (so each window is the last minute, disjoint). */
async function tick(spec: AppSpec, provider: TelemetryProvider, minutes: number): Promise<GateEvaluation[][]> {
  const history = new Map<string, WindowSample[]>()
  const out: GateEvaluation[][] = []
  for (let m = 1; m <= minutes; m++) {
    const evaluations = await evaluateGates({
      spec,
      canaryVersion: 'v2',
      baselineVersion: 'v1',
      canaryWeight: 10,
      stepStartedAt: EPOCH,
      now: EPOCH + m * 60_000,
      providers: new Map([['builtin', provider]]),
      history: (key) => history.get(key) ?? [],
      timeoutMs: 1000,
    })
    for (const { gate, sample } of evaluations) {
      if (!sample) continue
      const kept = history.get(providerKey(gate)) ?? []
      if (kept.at(-1) !== sample) kept.push(sample)
      history.set(providerKey(gate), kept)
    }
    out.push(evaluations)
  }
  return out
}

const wiggle = (m: number, phase: number): number => 1 + 0.05 * Math.sin(1.3 * m + phase)

describe('evaluateGates with mannWhitney gates (Kayenta score)', () => {
  const gates = [
    { name: 'p95', signal: 'latencyP95', judge: { kind: 'mannWhitney', weight: 2 } },
    { name: 'p50', signal: 'latencyP50', judge: { kind: 'mannWhitney' } },
  ]

  it('collects windows, then passes a healthy canary', async () => {
    const provider = new SeriesProvider((m) => ({
      canary: { latencyP95: 0.2 * wiggle(m, 0.4), latencyP50: 0.05 * wiggle(m, 1) },
      baseline: { latencyP95: 0.2 * wiggle(m, 0), latencyP50: 0.05 * wiggle(m, 2) },
    }))
    const ticks = await tick(appSpec(gates), provider, 12)
    const early = ticks[3]!
    expect(early.map((e) => e.verdict.verdict)).toEqual(['INCONCLUSIVE', 'INCONCLUSIVE'])
    expect(early[0]!.verdict.evidence['state']).toBe('collecting')
    const last = ticks.at(-1)!
    expect(last.map((e) => e.verdict.verdict)).toEqual(['PASS', 'PASS'])
    expect(last[0]!.verdict.reason).toMatch(/^Kayenta score 100 passes/)
  })

  it('fails both gates when the heavier metric regresses (score 33 < 75)', async () => {
    const provider = new SeriesProvider((m) => ({
      canary: { latencyP95: 0.3 * wiggle(m, 0.4), latencyP50: 0.05 * wiggle(m, 1) },
      baseline: { latencyP95: 0.2 * wiggle(m, 0), latencyP50: 0.05 * wiggle(m, 2) },
    }))
    const last = (await tick(appSpec(gates), provider, 12)).at(-1)!
    expect(last.map((e) => e.verdict.verdict)).toEqual(['FAIL', 'FAIL'])
    expect(last[1]!.verdict.reason).toContain('Kayenta score 33.33 below marginal')
    expect(last[1]!.verdict.reason).toContain('This metric: p50 Pass')
    expect(last[0]!.verdict.evidence['kayenta']).toMatchObject({ score: 33.33, outcome: 'fail' })
  })

  it('a provider that stops answering is inconclusive, never a pass', async () => {
    const provider = new SeriesProvider((m) => ({
      canary: { latencyP95: 0.2 * wiggle(m, 0.4), latencyP50: 0.05 * wiggle(m, 1) },
      baseline: { latencyP95: 0.2 * wiggle(m, 0), latencyP50: 0.05 * wiggle(m, 2) },
    }))
    const spec = appSpec(gates)
    const ticks = await tick(spec, provider, 12)
    expect(ticks.at(-1)!.map((e) => e.verdict.verdict)).toEqual(['PASS', 'PASS'])
    provider.failing = true
    const after = await evaluateGates({
      spec,
      canaryVersion: 'v2',
      baselineVersion: 'v1',
      canaryWeight: 10,
      stepStartedAt: EPOCH,
      now: EPOCH + 13 * 60_000,
      providers: new Map([['builtin', provider]]),
      timeoutMs: 1000,
    })
    expect(after.map((e) => e.verdict.verdict)).toEqual(['INCONCLUSIVE', 'INCONCLUSIVE'])
    expect(after[0]!.verdict.reason).toContain('builtin failed: connection refused')
  })
})

describe('evaluateGates with an anomaly gate', () => {
  it("watches the stable version's own error rate: quiet, then an alarm", async () => {
    const gates = [{ name: 'stable-errors', signal: 'errorRate', judge: { kind: 'anomaly', subject: 'baseline', falseAlarmRate: 0.001 } }]
    const spike = 40
    const provider = new SeriesProvider((m) => ({
      canary: { errorRate: 0.01 },
      baseline: { errorRate: m < spike ? 0.01 * wiggle(m, 0) : 0.08 },
    }))
    const ticks = await tick(appSpec(gates), provider, spike)
    const verdicts = ticks.map((t) => t[0]!.verdict)
    // Too little history first (collecting), then quiet passes, then the alarm at the spike.
    expect(verdicts[3]!.evidence['state']).toBe('collecting')
    expect(verdicts.slice(10, spike - 1).every((v) => v.verdict === 'PASS')).toBe(true)
    expect(verdicts.at(-1)!.verdict).toBe('FAIL')
    expect(verdicts.at(-1)!.reason).toContain("anomaly: baseline's error rate 8.0 %")
  })
})
