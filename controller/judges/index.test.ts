import { describe, expect, it } from 'vitest'
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

  it('returns the sequential judge', () => {
    const spec = { kind: 'sequential', alpha: 0.01 } as const
    const judge = judgeFor(spec)
    expect(judge.kind).toBe('sequential')
    // One ordinary window is not evidence either way.
    expect(judge.judge([windowOf({ canary: 0.01, baseline: 0.01, canaryRequests: 100, baselineRequests: 100 })], signalGate('errorRate', spec)).verdict).toBe('INCONCLUSIVE')
  })
})
