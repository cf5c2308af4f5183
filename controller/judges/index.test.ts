import { describe, expect, it } from 'vitest'
import { assertSpec } from '../../schema/spec.ts'
import { judgeFor } from './index.ts'
import { signalGate, windowOf } from './testing.ts'

describe('judgeFor', () => {
  it('returns the threshold judge', () => {
    const spec = { kind: 'threshold', max: 0.05 } as const
    const judge = judgeFor(spec)
    expect(judge.kind).toBe('threshold')
    expect(judge.judge([windowOf({ canary: 0.01 })], signalGate('errorRate', spec)).verdict).toBe('PASS')
  })

  it('returns the relative judge', () => {
    const spec = { kind: 'relative', maxIncrease: 0.01 } as const
    const judge = judgeFor(spec)
    expect(judge.kind).toBe('relative')
    expect(judge.judge([windowOf({ canary: 0.5, baseline: 0.01 })], signalGate('errorRate', spec)).verdict).toBe('FAIL')
  })

  it('returns the mannWhitney judge (no windows yet: inconclusive)', () => {
    const judge = judgeFor(assertSpec(appWith({ kind: 'mannWhitney' })).gates[0]!.judge)
    expect(judge.kind).toBe('mannWhitney')
    expect(judge.judge([], signalGate('latencyP95', { kind: 'threshold', max: 1 })).verdict).toBe('INCONCLUSIVE')
  })

  it('returns the anomaly judge (one window: inconclusive)', () => {
    const judge = judgeFor(assertSpec(appWith({ kind: 'anomaly' })).gates[0]!.judge)
    expect(judge.kind).toBe('anomaly')
    expect(judge.judge([windowOf({ canary: 0.01 })], signalGate('errorRate', { kind: 'threshold', max: 1 })).verdict).toBe('INCONCLUSIVE')
  })

  it('returns the sequential judge', () => {
    const spec = { kind: 'sequential', alpha: 0.01 } as const
    const judge = judgeFor(spec)
    expect(judge.kind).toBe('sequential')
    // One ordinary window is not evidence either way.
    expect(judge.judge([windowOf({ canary: 0.01, baseline: 0.01, canaryRequests: 100, baselineRequests: 100 })], signalGate('errorRate', spec)).verdict).toBe('INCONCLUSIVE')
  })
})

/** A minimal application whose one gate uses `judge`, so the judge spec gets its defaults. */
function appWith(judge: Record<string, unknown>): unknown {
  return {
    name: 'app',
    target: { kind: 'process', listen: '127.0.0.1:9', command: ['node', 'x.mjs'] },
    strategy: { canary: { steps: [{ setWeight: 10 }] } },
    gates: [{ name: 'g', signal: 'errorRate', judge }],
  }
}
