import { describe, expect, it } from 'vitest'
import { runControllerBench } from './index.ts'
import { CountingLeases, processCpuMicros } from './probes.ts'
import { type StepSamples, largestSustained, OptionsError, quantile, readOptions, summarizeStep } from './summary.ts'
import type { Lease, LeaseManager } from '../../controller/leases.ts'

describe('readOptions', () => {
  it('has the issue ramp and both stores by default', () => {
    expect(readOptions({})).toEqual({ rollouts: [100, 1000, 3000, 10000], seconds: 30, stores: ['sqlite', 'mysql'], concurrency: null, leases: null, intervalSeconds: 5, keepGoing: false, groupCommit: null })
  })

  it('reads every setting, sorting and deduplicating the ramp', () => {
    const env = { BENCH_ROLLOUTS: '500, 20,500', BENCH_SECONDS: '6', BENCH_STORES: 'mysql', BENCH_CONCURRENCY: '16', BENCH_LEASES: 'redis', BENCH_INTERVAL: '1', BENCH_KEEP_GOING: '1', BENCH_GROUP_COMMIT: '0' }
    expect(readOptions(env)).toEqual({ rollouts: [20, 500], seconds: 6, stores: ['mysql'], concurrency: 16, leases: 'redis', intervalSeconds: 1, keepGoing: true, groupCommit: false })
  })

  it.each([
    [{ BENCH_ROLLOUTS: '' }, 'BENCH_ROLLOUTS'],
    [{ BENCH_ROLLOUTS: '10,abc' }, 'BENCH_ROLLOUTS'],
    [{ BENCH_ROLLOUTS: '0' }, 'BENCH_ROLLOUTS'],
    [{ BENCH_ROLLOUTS: '-5' }, 'BENCH_ROLLOUTS'],
    [{ BENCH_ROLLOUTS: '1.5' }, 'BENCH_ROLLOUTS'],
    [{ BENCH_ROLLOUTS: '99999999999' }, 'BENCH_ROLLOUTS'],
    [{ BENCH_ROLLOUTS: Array.from({ length: 21 }, (_, i) => i + 1).join(',') }, 'BENCH_ROLLOUTS'],
    [{ BENCH_SECONDS: '1e3' }, 'BENCH_SECONDS'],
    [{ BENCH_SECONDS: '86400' }, 'BENCH_SECONDS'],
    [{ BENCH_STORES: 'postgres' }, 'BENCH_STORES'],
    [{ BENCH_STORES: ',' }, 'BENCH_STORES'],
    [{ BENCH_LEASES: 'zookeeper' }, 'BENCH_LEASES'],
    [{ BENCH_CONCURRENCY: '0' }, 'BENCH_CONCURRENCY'],
    [{ BENCH_INTERVAL: 'x'.repeat(10_000) }, 'BENCH_INTERVAL'],
    [{ BENCH_GROUP_COMMIT: 'yes' }, 'BENCH_GROUP_COMMIT'],
    [{ BENCH_GROUP_COMMIT: '' }, 'BENCH_GROUP_COMMIT'],
    [{ BENCH_GROUP_COMMIT: 'true' }, 'BENCH_GROUP_COMMIT'],
  ])('refuses %j, naming %s', (env, name) => {
    expect(() => readOptions(env)).toThrow(OptionsError)
    expect(() => readOptions(env)).toThrow(name)
  })

  it('keeps an oversized value out of its message', () => {
    try {
      readOptions({ BENCH_STORES: 'y'.repeat(100_000) })
      expect.unreachable()
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(200)
    }
  })
})

describe('quantile', () => {
  it.each([
    [[], 0.5, null],
    [[3], 0.99, 3],
    [[1, 2, 3, 4], 0.5, 2.5],
    [[0, 100], 0.99, 99],
    [[1, 2, 3], 1, 3],
  ] as const)('of %j at %d is %j', (sorted, q, expected) => {
    expect(quantile(sorted, q)).toBe(expected)
  })
})

const samples = (over: Partial<StepSamples> = {}): StepSamples => ({
  rollouts: 100,
  seconds: 10,
  intervalSeconds: 5,
  firstRoundSeconds: 1.234,
  lags: Array.from({ length: 200 }, (_, i) => i / 1000),
  durations: Array.from({ length: 200 }, () => 0.004),
  failedTicks: 0,
  leaseRenewals: 1000,
  lostLeases: 0,
  cpuMicros: 800_000,
  loopBusyMs: 1000,
  queries: 3400,
  commits: 50,
  commitRuns: 200,
  decisions: 0,
  evidenceRows: 600,
  eventLoopDelayP99Ns: 12_345_678,
  eventLoopDelayMaxNs: 50_000_000,
  rssStart: 100 * 2 ** 20,
  rssEnd: 120 * 2 ** 20,
  databaseCpuMicros: null,
  redisCpuMicros: 200_000,
  ...over,
})

describe('summarizeStep', () => {
  it('turns a window of samples into per-tick numbers', () => {
    expect(summarizeStep(samples())).toEqual({
      rollouts: 100,
      seconds: 10,
      firstRoundSeconds: 1.2,
      ticks: 200,
      expectedTicks: 200,
      tickRatio: 1,
      failedTicks: 0,
      lostLeases: 0,
      scanCycleSeconds: 1,
      tickLagMs: { p50: 99.5, p99: 197, max: 199 },
      tickDurationMs: { p50: 4, p99: 4, max: 4 },
      cpuMsPerRolloutTick: 4,
      cpuCores: 0.08,
      projectedRolloutsPerCore: 1250,
      loopMsPerRolloutTick: 5,
      projectedRolloutsPerLoop: 1000,
      databaseCpuMsPerRolloutTick: null,
      redisCpuMsPerRolloutTick: 1,
      sqlPerRolloutTick: 17,
      writesPerCommit: 4,
      decisionsWritten: 0,
      evidenceRowsWritten: 600,
      eventLoopDelayMs: { p99: 12.3, max: 50 },
      rssMb: { start: 100, end: 120 },
      sustained: true,
    })
  })

  it.each([
    ['lag p99 at 1 s', { lags: [0.1, 1, 1, 1] }, false],
    ['lag p99 just under 1 s', { lags: [0.1, 0.9, 0.99, 0.999] }, true],
    ['no ticks at all', { lags: [], durations: [] }, false],
  ])('%s: sustained is %s', (_name, over, sustained) => {
    expect(summarizeStep(samples(over)).sustained).toBe(sustained)
  })

  it('has no per-tick numbers without ticks, and no scan cycle without renewals', () => {
    const summary = summarizeStep(samples({ durations: [], lags: [], leaseRenewals: 0, firstRoundSeconds: null, eventLoopDelayP99Ns: null, eventLoopDelayMaxNs: null }))
    expect(summary).toMatchObject({ ticks: 0, tickRatio: 0, cpuMsPerRolloutTick: null, projectedRolloutsPerCore: null, loopMsPerRolloutTick: null, projectedRolloutsPerLoop: null, sqlPerRolloutTick: null, scanCycleSeconds: null, firstRoundSeconds: null })
    expect(summary.tickLagMs).toEqual({ p50: null, p99: null, max: null })
    expect(summary.eventLoopDelayMs).toBeNull()
  })

  it('has no writes per commit without group commit, or without commits', () => {
    expect(summarizeStep(samples({ commits: null, commitRuns: null })).writesPerCommit).toBeNull()
    expect(summarizeStep(samples({ commits: 0, commitRuns: 0 })).writesPerCommit).toBeNull()
  })
})

describe('largestSustained', () => {
  it.each([
    [[], null],
    [[{ rollouts: 100, sustained: false }], null],
    [[{ rollouts: 100, sustained: true }, { rollouts: 1000, sustained: true }, { rollouts: 3000, sustained: false }], 1000],
    // A recovery after a miss is noise, not capacity.
    [[{ rollouts: 100, sustained: true }, { rollouts: 1000, sustained: false }, { rollouts: 3000, sustained: true }], 100],
    [[{ rollouts: 3000, sustained: true }, { rollouts: 100, sustained: true }], 3000],
  ])('%j -> %j', (steps, expected) => {
    expect(largestSustained(steps)).toBe(expected)
  })
})

describe('CountingLeases', () => {
  it('counts renewals and waits for releases the caller did not wait for', async () => {
    let released = 0
    const inner: LeaseManager = {
      kind: 'store',
      acquire: async (name, holder, ttlMs) => ({ name, holder, token: 1, expiresAt: Date.now() + ttlMs }),
      renew: async () => true,
      renewMany: async () => [],
      holders: async () => new Map(),
      heartbeat: async (holder) => [holder],
      leave: async () => {},
      release: () => new Promise<void>((resolve) => setTimeout(() => {
        released++
        resolve()
      }, 20)),
      close: async () => {},
    }
    const leases = new CountingLeases(inner)
    const lease = (await leases.acquire('rollout:a', 'me', 1000)) as Lease
    await leases.renew(lease, 1000)
    await leases.renew(lease, 1000)
    void leases.release(lease)
    void leases.release({ ...lease, name: 'rollout:b' })
    await leases.released()
    expect({ renewals: leases.renewals, released }).toEqual({ renewals: 2, released: 2 })
  })
})

describe('processCpuMicros', () => {
  it('reads this process and gives null for none', () => {
    expect(processCpuMicros(null)).toBeNull()
    if (process.platform === 'linux') expect(processCpuMicros(process.pid)).toBeGreaterThan(0)
  })
})

describe('the controller benchmark, end to end on SQLite at a tiny scale', () => {
  it('ticks every seeded rollout through the real controller and summarises the window', async () => {
    const lines: string[] = []
    const summary = await runControllerBench(
      { rollouts: [20], seconds: 3, stores: ['sqlite'], concurrency: null, leases: null, intervalSeconds: 1, keepGoing: false, groupCommit: null },
      (line) => lines.push(line),
      { judgeRepeats: 1 },
    )
    expect(summary).toMatchObject({ benchmark: 'controller', machine: { cores: expect.any(Number) } })
    const [result] = summary.results
    if (!result || 'skipped' in result) throw new Error(`sqlite was skipped: ${JSON.stringify(result)}`)
    expect(result).toMatchObject({ store: 'sqlite', leases: 'store', bus: 'memory' })
    const [step] = result.steps
    expect(step).toBeDefined()
    expect(step!.rollouts).toBe(20)
    expect(step!.firstRoundSeconds).not.toBeNull()
    expect(step!.ticks).toBeGreaterThan(0)
    expect(step!.failedTicks).toBe(0)
    expect(step!.lostLeases).toBe(0)
    expect(step!.errors).toEqual([])
    // Every tick of a holding analysis judges both gates and stores a window: three rows.
    expect(step!.evidenceRowsWritten).toBeGreaterThan(0)
    expect(step!.sqlPerRolloutTick).toBeGreaterThan(0)
    // Every tick writes; grouped (SQLite's default) a batch holds at least one of them.
    expect(step!.writesPerCommit).toBeGreaterThanOrEqual(1)
    expect(step!.cpuMsPerRolloutTick).toBeGreaterThan(0)
    expect(step!.tickLagMs.p99).not.toBeNull()
    expect(step!.eventLoopDelayMs?.max).toBeGreaterThanOrEqual(0)
    expect(summary.largestSustained).toHaveProperty('sqlite')
    expect(Object.keys(summary.sequentialJudgeMsPerTickByIncrements.run)).toEqual(['12', '120', '720', '3600', '17280'])
    expect(Object.keys(summary.sequentialJudgeMsPerTickByIncrements.recompute)).toEqual(['12', '120', '720', '3600'])
    expect(Object.keys(summary.sequentialJudgeMsPerTickByIncrements.runKiB)).toEqual(['12', '120', '720', '3600'])
    expect(summary.sequentialJudgeMsPerTickByIncrements.keptIncrementsKiB['3600']).toBeGreaterThan(summary.sequentialJudgeMsPerTickByIncrements.keptIncrementsKiB['12']!)
    expect(step!.projectedRolloutsPerCore).toBeGreaterThan(0)
    expect(step!.projectedRolloutsPerLoop).toBeGreaterThan(0)
    expect(lines.some((l) => l.includes('first round'))).toBe(true)
  }, 60_000)

  it('runs on MySQL with Redis leases and the Redis bus, and drops what it made', async () => {
    const summary = await runControllerBench(
      { rollouts: [10], seconds: 2, stores: ['mysql'], concurrency: null, leases: null, intervalSeconds: 1, keepGoing: false, groupCommit: null },
      () => undefined,
      { judgeRepeats: 1 },
    )
    const [result] = summary.results
    if (!result || 'skipped' in result) throw new Error(`mysql was skipped: ${JSON.stringify(result)}`)
    expect(result).toMatchObject({ store: 'mysql', leases: 'redis', bus: 'redis' })
    expect(result.steps[0]!.ticks).toBeGreaterThan(0)
    expect(result.steps[0]!.failedTicks).toBe(0)
    expect(result.steps[0]!.sqlPerRolloutTick).toBeGreaterThan(0)
    // On MySQL the controller commits each tick alone by default: no batches to count.
    expect(result.steps[0]!.writesPerCommit).toBeNull()
  }, 60_000)
})
