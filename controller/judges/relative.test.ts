import { describe, expect, it } from 'vitest'
import type { GateSpec, RelativeJudgeSpec } from '../../schema/spec.ts'
import type { Verdict } from '../../schema/store/models.ts'
import type { WindowSample } from '../telemetry/provider.ts'
import { MIN_CANARY_REQUESTS } from './reading.ts'
import { RATIO_FLOORS, judgeRelative, relativeJudge } from './relative.ts'
import { queryGate, signalGate, windowOf } from './testing.ts'

const plus1: RelativeJudgeSpec = { kind: 'relative', maxIncrease: 0.01 }
const plusQuarter: RelativeJudgeSpec = { kind: 'relative', maxIncrease: 0.25 }
const x15: RelativeJudgeSpec = { kind: 'relative', maxRatio: 1.5 }
const x2: RelativeJudgeSpec = { kind: 'relative', maxRatio: 2 }
const both: RelativeJudgeSpec = { kind: 'relative', maxIncrease: 0.01, maxRatio: 2 }
const wideBoth: RelativeJudgeSpec = { kind: 'relative', maxIncrease: 0.1, maxRatio: 2 }
const queryX2: RelativeJudgeSpec = { kind: 'relative', maxRatio: 2 }
const queryBoth: RelativeJudgeSpec = { kind: 'relative', maxIncrease: 1, maxRatio: 2 }

const err = (spec: RelativeJudgeSpec): GateSpec => signalGate('errorRate', spec)
const p95 = (spec: RelativeJudgeSpec): GateSpec => signalGate('latencyP95', spec)
const query = (spec: RelativeJudgeSpec): GateSpec => queryGate('queue', spec)

interface Row {
  name: string
  spec: RelativeJudgeSpec
  gate: GateSpec
  history: WindowSample[]
  verdict: Verdict
  reason: string
}

const rows: Row[] = [
  { name: 'much worse fails (increase)', spec: plus1, gate: err(plus1), history: [windowOf({ canary: 0.079, baseline: 0.004 })], verdict: 'FAIL', reason: 'error rate 7.9 % vs 0.4 % baseline over the last 20 s; limit +1.0 %, so at most 1.4 %' },
  { name: 'a little worse passes (increase)', spec: plus1, gate: err(plus1), history: [windowOf({ canary: 0.012, baseline: 0.004 })], verdict: 'PASS', reason: 'error rate 1.2 % vs 0.4 % baseline over the last 20 s; limit +1.0 %' },
  { name: 'exactly baseline + increase passes', spec: plusQuarter, gate: err(plusQuarter), history: [windowOf({ canary: 0.5, baseline: 0.25 })], verdict: 'PASS', reason: '50.0 % vs 25.0 %' },
  { name: 'just over baseline + increase fails', spec: plusQuarter, gate: err(plusQuarter), history: [windowOf({ canary: 0.5001, baseline: 0.25 })], verdict: 'FAIL', reason: 'error rate 50.01 % vs 25.0 % baseline over the last 20 s; limit +25.0 %, so at most 50.00 %' },
  { name: 'much slower fails (ratio)', spec: x15, gate: p95(x15), history: [windowOf({ key: 'latencyP95', canary: 0.412, baseline: 0.18 })], verdict: 'FAIL', reason: 'p95 412 ms vs 180 ms baseline over the last 20 s; limit ×1.5, so at most 270 ms' },
  { name: 'exactly baseline × ratio passes', spec: x2, gate: p95(x2), history: [windowOf({ key: 'latencyP95', canary: 0.5, baseline: 0.25 })], verdict: 'PASS', reason: 'p95 500 ms vs 250 ms baseline over the last 20 s; limit ×2' },
  { name: 'just over baseline × ratio fails', spec: x2, gate: p95(x2), history: [windowOf({ key: 'latencyP95', canary: 0.5002, baseline: 0.25 })], verdict: 'FAIL', reason: 'so at most 500.0 ms' },
  { name: 'better than baseline passes (one-sided)', spec: plus1, gate: err(plus1), history: [windowOf({ canary: 0.001, baseline: 0.05 })], verdict: 'PASS', reason: '0.1 % vs 5.0 % baseline' },
  { name: 'far faster than baseline passes (one-sided)', spec: x15, gate: p95(x15), history: [windowOf({ key: 'latencyP95', canary: 0.01, baseline: 0.9 })], verdict: 'PASS', reason: 'p95 10.0 ms vs 900 ms' },
  { name: 'both limits: only the ratio crossed', spec: wideBoth, gate: err(wideBoth), history: [windowOf({ canary: 0.045, baseline: 0.02 })], verdict: 'FAIL', reason: 'limit +10.0 % and ×2, so at most 4.0 %' },
  { name: 'both limits: both crossed, the lower one named', spec: both, gate: err(both), history: [windowOf({ canary: 0.045, baseline: 0.02 })], verdict: 'FAIL', reason: 'limit +1.0 % and ×2, so at most 3.0 %' },
  { name: 'both limits: only the increase crossed', spec: { kind: 'relative', maxIncrease: 0.01, maxRatio: 10 }, gate: err({ kind: 'relative', maxIncrease: 0.01, maxRatio: 10 }), history: [windowOf({ canary: 0.03, baseline: 0.01 })], verdict: 'FAIL', reason: 'so at most 2.0 %' },
  { name: 'both limits: neither crossed', spec: both, gate: err(both), history: [windowOf({ canary: 0.025, baseline: 0.02 })], verdict: 'PASS', reason: 'limit +1.0 % and ×2' },
  { name: 'no baseline value', spec: plus1, gate: err(plus1), history: [windowOf({ canary: 0.01 })], verdict: 'INCONCLUSIVE', reason: 'no baseline to compare with' },
  { name: 'baseline null', spec: plus1, gate: err(plus1), history: [windowOf({ canary: 0.01, baseline: null })], verdict: 'INCONCLUSIVE', reason: 'no baseline to compare with' },
  { name: 'baseline NaN', spec: plus1, gate: err(plus1), history: [windowOf({ canary: 0.01, baseline: Number.NaN })], verdict: 'INCONCLUSIVE', reason: 'no baseline to compare with' },
  { name: 'no canary value', spec: plus1, gate: err(plus1), history: [windowOf({ baseline: 0.01 })], verdict: 'INCONCLUSIVE', reason: 'no canary data for errorRate in the window' },
  { name: 'no window', spec: plus1, gate: err(plus1), history: [], verdict: 'INCONCLUSIVE', reason: 'no telemetry window for errorRate yet' },
  { name: 'too little canary traffic', spec: plus1, gate: err(plus1), history: [windowOf({ canary: 0.5, baseline: 0.001, canaryRequests: 7 })], verdict: 'INCONCLUSIVE', reason: 'only 7 canary requests in the window; need 20' },
  { name: 'too little baseline traffic', spec: plus1, gate: err(plus1), history: [windowOf({ canary: 0.5, baseline: 0.001, baselineRequests: 3 })], verdict: 'INCONCLUSIVE', reason: 'only 3 baseline requests in the window; need 20' },
  { name: 'exactly the minimum on both sides', spec: plus1, gate: err(plus1), history: [windowOf({ canary: 0.5, baseline: 0.001, canaryRequests: MIN_CANARY_REQUESTS, baselineRequests: MIN_CANARY_REQUESTS })], verdict: 'FAIL', reason: '50.0 % vs 0.1 %' },
  { name: 'uncounted requests: judged on values', spec: plus1, gate: err(plus1), history: [windowOf({ canary: 0.5, baseline: 0.001, canaryRequests: null, baselineRequests: null })], verdict: 'FAIL', reason: '50.0 % vs 0.1 %' },
  { name: 'baseline 0, increase: within', spec: plus1, gate: err(plus1), history: [windowOf({ canary: 0.005, baseline: 0 })], verdict: 'PASS', reason: 'error rate 0.5 % vs 0.0 % baseline over the last 20 s; limit +1.0 %' },
  { name: 'baseline 0, increase: over', spec: plus1, gate: err(plus1), history: [windowOf({ canary: 0.02, baseline: 0 })], verdict: 'FAIL', reason: 'so at most 1.0 %' },
  { name: 'baseline 0, ratio: measured against the floor (within)', spec: x2, gate: err(x2), history: [windowOf({ canary: 0.0015, baseline: 0 })], verdict: 'PASS', reason: 'limit ×2 (ratio against at least 0.1 %)' },
  { name: 'baseline 0, ratio: measured against the floor (over)', spec: x2, gate: err(x2), history: [windowOf({ canary: 0.003, baseline: 0 })], verdict: 'FAIL', reason: 'limit ×2 (ratio against at least 0.1 %), so at most 0.2 %' },
  { name: 'baseline below the floor, ratio', spec: x2, gate: err(x2), history: [windowOf({ canary: 0.0005, baseline: 0.0001 })], verdict: 'PASS', reason: '(ratio against at least 0.1 %)' },
  { name: 'both 0 passes', spec: x2, gate: err(x2), history: [windowOf({ canary: 0, baseline: 0 })], verdict: 'PASS', reason: '0.0 % vs 0.0 %' },
  { name: 'query, baseline 0, ratio alone, canary worse', spec: queryX2, gate: query(queryX2), history: [windowOf({ key: 'queue', canary: 5, baseline: 0 })], verdict: 'INCONCLUSIVE', reason: 'queue 5 vs 0 baseline over the last 20 s; limit ×2 (a ratio cannot judge a baseline of 0); add maxIncrease to judge it' },
  { name: 'query, baseline 0, ratio alone, canary 0', spec: queryX2, gate: query(queryX2), history: [windowOf({ key: 'queue', canary: 0, baseline: 0 })], verdict: 'PASS', reason: 'queue 0 vs 0 baseline' },
  { name: 'query, baseline 0, both: increase judges (within)', spec: queryBoth, gate: query(queryBoth), history: [windowOf({ key: 'queue', canary: 0.5, baseline: 0 })], verdict: 'PASS', reason: 'limit +1 and ×2 (a ratio cannot judge a baseline of 0)' },
  { name: 'query, baseline 0, both: increase judges (over)', spec: queryBoth, gate: query(queryBoth), history: [windowOf({ key: 'queue', canary: 3, baseline: 0 })], verdict: 'FAIL', reason: 'so at most 1' },
  { name: 'query with a positive baseline: plain ratio', spec: queryX2, gate: query(queryX2), history: [windowOf({ key: 'queue', canary: 9, baseline: 4 })], verdict: 'FAIL', reason: 'queue 9 vs 4 baseline over the last 20 s; limit ×2, so at most 8' },
  { name: 'the last window decides', spec: plus1, gate: err(plus1), history: [windowOf({ canary: 0.5, baseline: 0 }), windowOf({ canary: 0.001, baseline: 0 })], verdict: 'PASS', reason: '0.1 % vs 0.0 %' },
]

describe('relative judge', () => {
  it.each(rows)('$name → $verdict', ({ spec, gate, history, verdict, reason }) => {
    const result = judgeRelative(spec, history, gate)
    expect(result.verdict).toBe(verdict)
    expect(result.reason).toContain(reason)
  })

  it('ignores the dry-run flag: judging is the same either way', () => {
    for (const row of rows) {
      const dry = { ...row.gate, dryRun: !row.gate.dryRun } as GateSpec
      expect(judgeRelative(row.spec, row.history, dry)).toEqual(judgeRelative(row.spec, row.history, row.gate))
    }
  })

  it('has a ratio floor for every built-in unit', () => {
    expect(RATIO_FLOORS).toEqual({ fraction: 0.001, seconds: 0.001, 'req/s': 0.01 })
  })

  it('records the computed limits and the window in its evidence', () => {
    const result = judgeRelative(both, [windowOf({ canary: 0.079, baseline: 0.004, canaryRequests: 1000, baselineRequests: 1000 })], err(both))
    expect(result).toMatchObject({ gate: 'g', verdict: 'FAIL', value: 0.079, baseline: 0.004 })
    expect(result.evidence).toMatchObject({
      judge: 'relative',
      key: 'errorRate',
      canary: 0.079,
      baseline: 0.004,
      thresholds: { maxIncrease: 0.01, maxRatio: 2 },
      window: { start: '2025-01-01T12:00:00.000Z', end: '2025-01-01T12:00:20.000Z', seconds: 20 },
      canaryRequests: 1000,
      baselineRequests: 1000,
      canaryErrors: 79,
      baselineErrors: 4,
      ratioFloor: 0.001,
    })
    expect(result.evidence['increaseLimit']).toBeCloseTo(0.014)
    expect(result.evidence['ratioLimit']).toBeCloseTo(0.008)
    expect(JSON.parse(JSON.stringify(result.evidence))).toEqual(result.evidence)
  })

  it('does not fail on one unlucky error in a small window', () => {
    const one = judgeRelative(plus1, [windowOf({ canary: 1 / 24, baseline: 0.004, canaryRequests: 24, baselineRequests: 200 })], err(plus1))
    expect(one.verdict).toBe('INCONCLUSIVE')
    expect(one.reason).toMatch(/not yet clearly over it/)
    // Data is there: the loop keeps analysing rather than counting it as missing.
    expect(one.evidence.state).toBe('collecting')
  })

  it('is a Judge through its factory', () => {
    const judge = relativeJudge(plus1)
    expect(judge.kind).toBe('relative')
    expect(judge.judge([windowOf({ canary: 0.9, baseline: 0 })], err(plus1)).verdict).toBe('FAIL')
  })
})
