/**
 * The sequential judge on provider gates: a Tempo gate's counts are read by the gate's name
 * (`<gate>.errors`, `<gate>.total`, as controller/telemetry/tempo.ts reports them); a gate
 * whose provider gives one value per window (Prometheus, Loki) stays unsupported. Missing or
 * impossible counts are INCONCLUSIVE with the reason, never PASS.
 */
import { describe, expect, it } from 'vitest'
import type { GateSpec, SequentialJudgeSpec } from '../../schema/spec.ts'
import type { VersionWindow, WindowSample } from '../telemetry/provider.ts'
import { judgeFor } from './index.ts'
import { judgeSequential, sequentialSupport } from './sequential.ts'

const spec: SequentialJudgeSpec = { kind: 'sequential', alpha: 0.01 }
const BASE = Date.UTC(2025, 0, 1, 12)
const TRACEQL = '{ resource.service.version = "{{version}}" && status = error }'

function providerGate(provider: 'tempo' | 'loki' | 'prometheus', name = 'trace-errors'): GateSpec {
  return { name, provider, query: TRACEQL, judge: spec, dryRun: false, inconclusiveLimit: 6 }
}
const tempo = providerGate('tempo')

/** One side's counts; `undefined` leaves a key out, as a provider that could not count does. */
type Counts = { errors?: number | null; total?: number | null; reason?: string }

function side(version: string, counts: Counts, gate = 'trace-errors'): VersionWindow {
  const values: Record<string, number | null> = {}
  if (counts.errors !== undefined) values[`${gate}.errors`] = counts.errors
  if (counts.total !== undefined) values[`${gate}.total`] = counts.total
  const { errors, total } = counts
  values[gate] = typeof errors === 'number' && typeof total === 'number' && total > 0 ? errors / total : null
  // Tempo's window: `requests`/`errors` describe the version (all traces), not the gate.
  return { version, requests: 999_999, errors: 0, values, ...(counts.reason === undefined ? {} : { reasons: { [gate]: counts.reason } }) }
}

/** Consecutive disjoint 5 s Tempo windows, all with the same counts. */
function windows(n: number, canary: Counts, baseline: Counts, gate = 'trace-errors'): WindowSample[] {
  return Array.from({ length: n }, (_, i) => ({
    provider: 'tempo',
    start: new Date(BASE + i * 5_000),
    end: new Date(BASE + (i + 1) * 5_000),
    canaryWeight: 50,
    canary: side('v2', canary, gate),
    baseline: side('v1', baseline, gate),
  }))
}

describe('the sequential judge on a tempo gate', () => {
  it('is supported on tempo gates only among provider gates', () => {
    expect(sequentialSupport(tempo)).toEqual({ ok: true, test: 'errors' })
    for (const provider of ['prometheus', 'loki'] as const) {
      const support = sequentialSupport(providerGate(provider, 'q'))
      expect(support.ok).toBe(false)
      if (!support.ok) expect(support.reason).toMatch(new RegExp(`a ${provider} query gives one value per window: use the relative judge for q`))
    }
  })

  it('fails a clear regression read from the gate-name counts, in plain words', () => {
    const v = judgeFor(spec).judge(windows(4, { errors: 20, total: 100 }, { errors: 1, total: 100 }), tempo)
    expect(v.verdict).toBe('FAIL')
    expect(v.reason).toMatch(/^canary trace-errors 20\.0 % vs 1\.0 % baseline over 400 canary traces and 400 baseline traces in 20 s: e-value .+ ≥ 100 = 1\/alpha$/)
    expect(v.value).toBeCloseTo(0.2, 9)
    expect(v.baseline).toBeCloseTo(0.01, 9)
    expect(v.evidence).toMatchObject({ judge: 'sequential', key: 'trace-errors', provider: 'tempo', state: 'regression', canaryErrorsTotal: 80, canaryRequestsTotal: 400 })
  })

  it('ignores the window-wide requests and errors: only the gate counts decide', () => {
    // side() sets requests 999,999 and errors 0 on every window; a FAIL proves they were not read.
    const v = judgeSequential(spec, windows(4, { errors: 30, total: 100 }, { errors: 0, total: 100 }), tempo)
    expect(v.verdict).toBe('FAIL')
    expect(v.evidence['baselineRequestsTotal']).toBe(400)
  })

  it('passes a healthy canary on positive evidence only', () => {
    const healthy = windows(160, { errors: 1, total: 500 }, { errors: 1, total: 500 })
    expect(judgeSequential(spec, healthy.slice(0, 1), tempo).verdict).toBe('INCONCLUSIVE')
    const v = judgeSequential(spec, healthy, tempo)
    expect(v.verdict).toBe('PASS')
    expect(v.evidence['state']).toBe('non-inferior')
  })

  it('reads counts under its own gate name when other gates share the window', () => {
    const other = windows(4, { errors: 20, total: 100 }, { errors: 1, total: 100 }, 'slow-traces')
    const v = judgeSequential(spec, other, tempo)
    expect(v.verdict).toBe('INCONCLUSIVE')
    expect(v.reason).toMatch(/trace-errors only as a ratio; the sequential judge needs its counts \(trace-errors\.errors, trace-errors\.total\)/)
  })

  // Degenerate counts: every row is INCONCLUSIVE (no-data), whatever the other side says.
  const healthyBaseline: Counts = { errors: 1, total: 100 }
  const failingCanary: Counts = { errors: 50, total: 100 }
  it.each<[string, Counts, Counts, RegExp]>([
    ['no counts at all', {}, healthyBaseline, /trace-errors only as a ratio/],
    ['only the errors', { errors: 5 }, healthyBaseline, /only as a ratio/],
    ['only the total', { total: 100 }, healthyBaseline, /only as a ratio/],
    ['null counts with the provider’s reason', { errors: null, total: null, reason: 'truncated: the search reached the limit' }, healthyBaseline, /no canary counts for trace-errors: truncated: the search reached the limit/],
    ['NaN errors', { errors: Number.NaN, total: 100 }, healthyBaseline, /canary counts are not numbers/],
    ['infinite total', { errors: 1, total: Number.POSITIVE_INFINITY }, healthyBaseline, /canary counts are not numbers/],
    ['negative errors', { errors: -1, total: 100 }, healthyBaseline, /canary counts are negative/],
    ['negative total', { errors: 0, total: -5 }, healthyBaseline, /canary counts are negative/],
    ['more errors than traces', { errors: 101, total: 100 }, healthyBaseline, /canary has more errors than requests \(101 of 100\)/],
    ['a baseline without counts', failingCanary, { errors: null, total: null, reason: 'there is no baseline version to compare with' }, /no baseline counts for trace-errors: there is no baseline version/],
    ['a baseline with more errors than traces', failingCanary, { errors: 7, total: 3 }, /baseline has more errors than requests/],
    ['a baseline with NaN counts', failingCanary, { errors: Number.NaN, total: Number.NaN }, /baseline counts are not numbers/],
  ])('%s: INCONCLUSIVE, never PASS or FAIL', (_what, canary, baseline, reason) => {
    const v = judgeSequential(spec, windows(6, canary, baseline), tempo)
    expect(v.verdict).toBe('INCONCLUSIVE')
    expect(v.reason).toMatch(/^no usable trace-errors counts yet: /)
    expect(v.reason).toMatch(reason)
    expect(v.evidence['state']).toBe('no-data')
    expect(() => JSON.stringify(v.evidence)).not.toThrow()
  })

  it('no canary traces at all is INCONCLUSIVE (collecting: zero counts are an answer, the analysis max bounds the wait)', () => {
    const v = judgeSequential(spec, windows(6, { errors: 0, total: 0 }, { errors: 1, total: 100 }), tempo)
    expect(v.verdict).toBe('INCONCLUSIVE')
    expect(v.evidence['state']).toBe('collecting')
  })

  it('no windows at all is INCONCLUSIVE', () => {
    const v = judgeSequential(spec, [], tempo)
    expect(v.verdict).toBe('INCONCLUSIVE')
    expect(v.reason).toBe('no telemetry window for trace-errors yet')
  })

  it('skips the bad windows and keeps the evidence of the good ones', () => {
    const bad = windows(2, { errors: 5, total: 2 }, { errors: 0, total: 100 })
    const good = windows(6, { errors: 20, total: 100 }, { errors: 1, total: 100 }).map((w) => ({ ...w, start: new Date(w.start.getTime() + 10_000), end: new Date(w.end.getTime() + 10_000) }))
    const v = judgeSequential(spec, [...bad, ...good], tempo)
    expect(v.verdict).toBe('FAIL')
    expect(v.evidence['windows']).toMatchObject({ invalid: 2 })
  })
})
