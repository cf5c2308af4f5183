import { describe, expect, it } from 'vitest'
import type { ThresholdJudgeSpec } from '../../schema/spec.ts'
import type { BuiltinSignal } from '../../schema/spec/signals.ts'
import type { Verdict } from '../../schema/store/models.ts'
import type { WindowSample } from '../telemetry/provider.ts'
import { MIN_CANARY_REQUESTS } from './reading.ts'
import { queryGate, signalGate, windowOf } from './testing.ts'
import { judgeThreshold, thresholdJudge } from './threshold.ts'

const errMax: ThresholdJudgeSpec = { kind: 'threshold', max: 0.05 }
const p95Max: ThresholdJudgeSpec = { kind: 'threshold', max: 0.25 }
const rateMin: ThresholdJudgeSpec = { kind: 'threshold', min: 10 }
const range: ThresholdJudgeSpec = { kind: 'threshold', min: 0.2, max: 0.6 }

interface Row {
  name: string
  signal: BuiltinSignal
  spec: ThresholdJudgeSpec
  history: WindowSample[]
  verdict: Verdict
  reason: string
}

const rows: Row[] = [
  { name: 'within max', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: 0.02 })], verdict: 'PASS', reason: 'error rate 2.0 % over the last 20 s; limit ≤ 5.0 %' },
  { name: 'exactly max passes', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: 0.05 })], verdict: 'PASS', reason: 'limit ≤ 5.0 %' },
  { name: 'just above max fails', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: 0.0501 })], verdict: 'FAIL', reason: 'error rate 5.01 % over the last 20 s; above the limit of 5.00 %' },
  { name: 'latency in ms', signal: 'latencyP95', spec: p95Max, history: [windowOf({ key: 'latencyP95', canary: 0.412 })], verdict: 'FAIL', reason: 'p95 412 ms over the last 20 s; above the limit of 250 ms' },
  { name: 'below min fails', signal: 'requestRate', spec: rateMin, history: [windowOf({ key: 'requestRate', canary: 3 })], verdict: 'FAIL', reason: 'request rate 3.0 req/s over the last 20 s; below the minimum of 10.0 req/s' },
  { name: 'exactly min passes', signal: 'requestRate', spec: rateMin, history: [windowOf({ key: 'requestRate', canary: 10 })], verdict: 'PASS', reason: 'limit ≥ 10.0 req/s' },
  { name: 'inside a range', signal: 'errorRate', spec: range, history: [windowOf({ canary: 0.4 })], verdict: 'PASS', reason: 'limit 20.0 %–60.0 %' },
  { name: 'range lower bound', signal: 'errorRate', spec: range, history: [windowOf({ canary: 0.2 })], verdict: 'PASS', reason: 'limit 20.0 %–60.0 %' },
  { name: 'range upper bound', signal: 'errorRate', spec: range, history: [windowOf({ canary: 0.6 })], verdict: 'PASS', reason: 'limit 20.0 %–60.0 %' },
  { name: 'under a range', signal: 'errorRate', spec: range, history: [windowOf({ canary: 0.1 })], verdict: 'FAIL', reason: 'below the minimum of 20.0 %' },
  { name: 'over a range', signal: 'errorRate', spec: range, history: [windowOf({ canary: 0.7 })], verdict: 'FAIL', reason: 'above the limit of 60.0 %' },
  { name: 'zero passes a max', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: 0 })], verdict: 'PASS', reason: 'error rate 0.0 %' },
  { name: 'tiny values keep a digit', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: 0.0004 })], verdict: 'PASS', reason: 'error rate 0.04 %' },
  { name: 'no baseline needed', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: 0.01, baseline: null })], verdict: 'PASS', reason: '1.0 %' },
  { name: 'no window', signal: 'errorRate', spec: errMax, history: [], verdict: 'INCONCLUSIVE', reason: 'no telemetry window for errorRate yet' },
  { name: 'value missing', signal: 'errorRate', spec: errMax, history: [windowOf({})], verdict: 'INCONCLUSIVE', reason: 'no canary data for errorRate in the window' },
  { name: 'value null', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: null })], verdict: 'INCONCLUSIVE', reason: 'no canary data for errorRate in the window' },
  { name: 'value NaN', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: Number.NaN })], verdict: 'INCONCLUSIVE', reason: 'no usable canary data for errorRate in the window (got NaN)' },
  { name: 'value Infinity', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: Number.POSITIVE_INFINITY })], verdict: 'INCONCLUSIVE', reason: '(got Infinity)' },
  { name: 'too little traffic', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: 0.9, canaryRequests: 7 })], verdict: 'INCONCLUSIVE', reason: 'only 7 canary requests in the window; need 20' },
  { name: 'one request', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: 0, canaryRequests: 1 })], verdict: 'INCONCLUSIVE', reason: 'only 1 canary request in the window; need 20' },
  { name: 'no requests beats no value', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: null, canaryRequests: 0 })], verdict: 'INCONCLUSIVE', reason: 'only 0 canary requests' },
  { name: 'one short of the minimum', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: 0.01, canaryRequests: MIN_CANARY_REQUESTS - 1 })], verdict: 'INCONCLUSIVE', reason: 'only 19 canary requests' },
  { name: 'exactly the minimum', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: 0.01, canaryRequests: MIN_CANARY_REQUESTS })], verdict: 'PASS', reason: 'error rate 1.0 %' },
  { name: 'uncounted requests: judged on the value', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: 0.01, canaryRequests: null })], verdict: 'PASS', reason: 'error rate 1.0 %' },
  { name: 'the last window decides (pass after fail)', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: 0.9 }), windowOf({ canary: 0.01 })], verdict: 'PASS', reason: '1.0 %' },
  { name: 'the last window decides (fail after pass)', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: 0.01 }), windowOf({ canary: 0.9 })], verdict: 'FAIL', reason: '90.0 %' },
  { name: 'the last window decides (no data after pass)', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: 0.01 }), windowOf({})], verdict: 'INCONCLUSIVE', reason: 'no canary data' },
  { name: 'window length from start/end', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: 0.01, seconds: 90 })], verdict: 'PASS', reason: 'over the last 90 s' },
  { name: 'long windows in minutes', signal: 'errorRate', spec: errMax, history: [windowOf({ canary: 0.01, seconds: 300 })], verdict: 'PASS', reason: 'over the last 5 min' },
]

describe('threshold judge', () => {
  it.each(rows)('$name → $verdict', ({ signal, spec, history, verdict, reason }) => {
    const result = judgeThreshold(spec, history, signalGate(signal, spec))
    expect(result.verdict).toBe(verdict)
    expect(result.reason).toContain(reason)
    expect(result.gate).toBe('g')
  })

  it('ignores the dry-run flag: judging is the same either way', () => {
    for (const row of rows) {
      const wet = judgeThreshold(row.spec, row.history, signalGate(row.signal, row.spec, false))
      const dry = judgeThreshold(row.spec, row.history, signalGate(row.signal, row.spec, true))
      expect(dry).toEqual(wet)
    }
  })

  it('judges a provider query by the gate name, without a unit', () => {
    const spec: ThresholdJudgeSpec = { kind: 'threshold', max: 1 }
    const gate = queryGate('saturation', spec)
    const pass = judgeThreshold(spec, [windowOf({ key: 'saturation', canary: 0.3333333 })], gate)
    expect(pass).toMatchObject({ gate: 'saturation', verdict: 'PASS', value: 0.3333333 })
    expect(pass.reason).toBe('saturation 0.3333 over the last 20 s; limit ≤ 1')
    const missing = judgeThreshold(spec, [windowOf({ key: 'errorRate', canary: 0.5 })], gate)
    expect(missing).toMatchObject({ verdict: 'INCONCLUSIVE', reason: 'no canary data for saturation in the window' })
  })

  it('records JSON-safe evidence that lets the verdict be re-checked', () => {
    const result = judgeThreshold(errMax, [windowOf({ canary: 0.079, baseline: 0.004, canaryRequests: 1000, baselineRequests: 1000 })], signalGate('errorRate', errMax))
    expect(result).toMatchObject({ verdict: 'FAIL', value: 0.079, baseline: 0.004 })
    expect(result.evidence).toEqual({
      judge: 'threshold',
      key: 'errorRate',
      signal: 'errorRate',
      query: null,
      provider: 'builtin',
      unit: 'fraction',
      canary: 0.079,
      baseline: 0.004,
      thresholds: { min: null, max: 0.05 },
      window: { start: '2025-01-01T12:00:00.000Z', end: '2025-01-01T12:00:20.000Z', seconds: 20 },
      canaryRequests: 1000,
      baselineRequests: 1000,
      canaryErrors: 79,
      baselineErrors: 4,
      minRequests: MIN_CANARY_REQUESTS,
      lowerBound: expect.closeTo(0.0596, 3) as unknown as number,
    })
    expect(JSON.parse(JSON.stringify(result.evidence))).toEqual(result.evidence)
  })

  it('does not fail on a few unlucky requests: over the limit but not clearly is INCONCLUSIVE', () => {
    const few = judgeThreshold(errMax, [windowOf({ canary: 2 / 25, canaryRequests: 25 })], signalGate('errorRate', errMax))
    expect(few.verdict).toBe('INCONCLUSIVE')
    expect(few.reason).toMatch(/not yet clearly/)
    const many = judgeThreshold(errMax, [windowOf({ canary: 0.08, canaryRequests: 2000 })], signalGate('errorRate', errMax))
    expect(many.verdict).toBe('FAIL')
  })

  it('keeps evidence JSON-safe without a window or with a NaN value', () => {
    const none = judgeThreshold(errMax, [], signalGate('errorRate', errMax))
    expect(none).toMatchObject({ value: null, baseline: null })
    expect(none.evidence).toMatchObject({ window: null, canary: null, canaryRequests: null })
    const nan = judgeThreshold(errMax, [windowOf({ canary: Number.NaN, baseline: Number.NaN })], signalGate('errorRate', errMax))
    expect(nan).toMatchObject({ value: null, baseline: null })
    expect(nan.evidence).toMatchObject({ canary: null, baseline: null })
  })

  it('is a Judge through its factory', () => {
    const judge = thresholdJudge(errMax)
    expect(judge.kind).toBe('threshold')
    expect(judge.judge([windowOf({ canary: 0.9 })], signalGate('errorRate', errMax)).verdict).toBe('FAIL')
  })
})
