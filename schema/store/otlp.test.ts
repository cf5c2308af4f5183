import { describe, expect, it } from 'vitest'
import { emptyCounts, type OtlpSecond } from './otlp.ts'
import { DIALECTS } from '../../test/support/databases.ts'
import { suiteStore } from '../../test/support/suite-store.ts'

function second(version: string, at: number, patch: Partial<OtlpSecond> = {}): OtlpSecond {
  return { application: 'shop', version, second: at, ...emptyCounts(), durations: new Map(), ...patch }
}

describe.each(DIALECTS)('OtlpRepository on %s', (dialect) => {
  const suite = suiteStore(dialect)

  it('adds counts and histograms of the same second (two receivers flushing) and sums a window per version', async () => {
    await suite().otlp.add([
      second('v1', 100, { spans: 10, errorSpans: 1, traces: 5, errorTraces: 1, logs: 4, errorLogs: 1, durations: new Map([[20, 6], [30, 4]]) }),
      second('v2', 100, { spans: 3, durations: new Map([[40, 3]]) }),
    ])
    await suite().otlp.add([second('v1', 100, { spans: 2, traces: 1, durations: new Map([[20, 2]]) }), second('v1', 101, { spans: 1, logs: 2, errorLogs: 2, durations: new Map([[50, 1]]) })])
    const window = await suite().otlp.window('shop', ['v1', 'v2', 'v9'], 100_000, 102_000)
    expect(window.get('v1')).toEqual({ spans: 13, errorSpans: 1, traces: 6, errorTraces: 1, logs: 6, errorLogs: 3, durations: new Map([[20, 8], [30, 4], [50, 1]]) })
    expect(window.get('v2')).toMatchObject({ spans: 3, durations: new Map([[40, 3]]) })
    // No rows is no data, never zeros.
    expect(window.has('v9')).toBe(false)
  })

  it('includes a whole second when a window edge falls inside it, and nothing outside', async () => {
    expect((await suite().otlp.window('shop', ['v1'], 100_500, 100_600)).get('v1')?.spans).toBe(12)
    expect((await suite().otlp.window('shop', ['v1'], 101_000, 101_001)).get('v1')?.spans).toBe(1)
    expect((await suite().otlp.window('shop', ['v1'], 102_000, 110_000)).size).toBe(0)
    expect((await suite().otlp.window('other', ['v1'], 0, 200_000)).size).toBe(0)
    expect((await suite().otlp.window('shop', ['v1'], 200_000, 100_000)).size).toBe(0)
  })

  it('refuses impossible counts and writes nothing of the batch', async () => {
    await expect(suite().otlp.add([second('v3', 100, { spans: 1 }), second('v3', 101, { spans: -1 })])).rejects.toThrow(/non-negative integers/)
    await expect(suite().otlp.add([second('', 100, { spans: 1 })])).rejects.toThrow(/version must be/)
    expect((await suite().otlp.window('shop', ['v3'], 0, 200_000)).size).toBe(0)
  })

  it('prunes old seconds, histograms included', async () => {
    expect(await suite().otlp.prune(101_000)).toBe(2)
    const left = await suite().otlp.window('shop', ['v1', 'v2'], 0, 200_000)
    expect([...left.keys()]).toEqual(['v1'])
    expect(left.get('v1')?.durations).toEqual(new Map([[50, 1]]))
  })
})
