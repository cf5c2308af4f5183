import { describe, expect, it } from 'vitest'
import { FencedError } from '../../schema/store/leases.ts'
import { reuseRecentCheck } from './fenced.ts'

/** A check that counts its runs and fails while `fenced` is set; time is `clock.now`. */
function setup(freshMs = 250) {
  const clock = { now: 0 }
  const state = { runs: 0, fenced: false }
  const check = reuseRecentCheck(
    async () => {
      state.runs++
      if (state.fenced) throw new FencedError('a newer holder took the rollout')
    },
    freshMs,
    () => clock.now,
  )
  return { clock, state, check }
}

describe('reuseRecentCheck', () => {
  it.each([
    { name: 'the second call at once reuses the first', gapMs: 0, runs: 1 },
    { name: 'just inside the freshness reuses it', gapMs: 249, runs: 1 },
    { name: 'at the freshness limit checks again', gapMs: 250, runs: 2 },
    { name: 'long after checks again', gapMs: 5_000, runs: 2 },
  ])('$name', async ({ gapMs, runs }) => {
    const { clock, state, check } = setup()
    await check()
    clock.now += gapMs
    await check()
    expect(state.runs).toBe(runs)
  })

  it('never reuses a failure: every call after a fenced check checks again and fails', async () => {
    const { state, check } = setup()
    state.fenced = true
    await expect(check()).rejects.toBeInstanceOf(FencedError)
    await expect(check()).rejects.toBeInstanceOf(FencedError)
    expect(state.runs).toBe(2)
  })

  it('a token lost after a pass is seen once the pass is stale', async () => {
    const { clock, state, check } = setup()
    await check()
    state.fenced = true
    clock.now += 100
    await expect(check()).resolves.toBeUndefined()
    clock.now += 150
    await expect(check()).rejects.toBeInstanceOf(FencedError)
  })

  it('calls at the same time share one check', async () => {
    const { state, check } = setup()
    await Promise.all([check(), check(), check()])
    expect(state.runs).toBe(1)
  })

  it('freshness 0 checks every time', async () => {
    const { state, check } = setup(0)
    await check()
    await check()
    expect(state.runs).toBe(2)
  })
})
