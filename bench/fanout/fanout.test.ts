import { describe, expect, it } from 'vitest'
import { bestOffset } from './clock.ts'
import { OptionsError, ratio, readOptions, summarizeStep, verdicts, type StepObservation } from './summary.ts'

describe('readOptions', () => {
  it('defaults to 1,000 and 5,000 subscribers with a baseline at 1,000', () => {
    expect(readOptions([], {})).toEqual({ subscribers: [1000, 5000], baseline: 1000, seconds: 20, rate: 5, processes: 2 })
  })

  it('reads flags in both spellings, and 0 turns the baseline off', () => {
    expect(readOptions(['--subscribers', '10000', '--baseline=0', '--seconds', '5', '--rate=2', '--processes', '4'], {})).toEqual({ subscribers: [10000], baseline: null, seconds: 5, rate: 2, processes: 4 })
    expect(readOptions(['--subscribers=20'], { BENCH_SECONDS: '3', BENCH_PROCESSES: '3' })).toMatchObject({ subscribers: [20], baseline: 20, seconds: 3, processes: 3 })
  })

  it.each([
    [['--subscribers', '0']],
    [['--subscribers', '1e3']],
    [['--rate', '-1']],
    [['--nope']],
    [['--seconds']],
    [['--processes', '0']],
    [['--processes', '1.5']],
    [['--processes', '17']],
    [['--processes', 'two']],
    [['--processes=']],
  ])('refuses %j', (argv) => {
    expect(() => readOptions(argv, {})).toThrow(OptionsError)
  })
})

describe('summarizeStep', () => {
  const base: StepObservation = {
    subscribers: 2,
    published: 3,
    windowSeconds: 2,
    latenciesUs: [3000, 1000, 2000, 4000, 5000],
    received: 5,
    maxBehindAtLastPublish: 1,
    drainMs: 4,
    cpuSeconds: 2,
    serverCpuMs: 10,
    subscriberCpuMs: [400, 1000],
    mainCpuMs: 200,
    machineBusyMs: 3000,
    clockErrorMs: 0.0424,
    rssBeforeBytes: 1_000_000,
    rssWithBytes: 1_000_000 + 2 * 2048,
    errors: 0,
    closed: 0,
  }

  it('counts what was lost and what each delivery cost', () => {
    expect(summarizeStep(base)).toEqual({
      subscribers: 2,
      published: 3,
      publishedPerSecond: 1.5,
      saturated: false,
      deliveries: 5,
      lost: 1,
      latencyMs: { p50: 3, p99: 4.96, max: 5 },
      maxBehindAtLastPublish: 1,
      drainMs: 4,
      cpuMicrosPerDelivery: 2000,
      serverCpuPerSecond: 0.01,
      subscriberProcesses: 2,
      subscriberCpuPerSecond: 0.7,
      busiestSubscriberProcessCpuPerSecond: 0.5,
      mainCpuPerSecond: 0.1,
      machineCpuPerSecond: 1.5,
      restOfMachineCpuPerSecond: 0.7,
      clockErrorMs: 0.042,
      rssPerSubscriberKiB: 2,
      errors: 0,
      closed: 0,
    })
  })

  it('says null when a reading is missing rather than guess', () => {
    const s = summarizeStep({ ...base, serverCpuMs: null, subscriberCpuMs: [400, null], rssWithBytes: null, received: 0, latenciesUs: [], drainMs: null })
    expect(s).toMatchObject({ cpuMicrosPerDelivery: null, rssPerSubscriberKiB: null, lost: 6, latencyMs: { p50: null, p99: null }, saturated: true })
    expect(s).toMatchObject({ subscriberProcesses: 2, subscriberCpuPerSecond: null, busiestSubscriberProcessCpuPerSecond: null, restOfMachineCpuPerSecond: null })
  })
})

describe('ratio and verdicts', () => {
  it('divides baseline by fan-out, or says it cannot', () => {
    expect(ratio(30, 10)).toBe(3)
    expect(ratio(null, 10)).toBeNull()
    expect(ratio(30, 0)).toBeNull()
  })

  it('judges the issue’s targets only on steps that ran', () => {
    const step = (subscribers: number, p99: number, lost = 0) => ({ ...summarizeStep({ ...baseStep, subscribers }), latencyMs: { p50: 1, p99, max: p99 }, lost })
    const baseStep: StepObservation = { subscribers: 1, published: 0, windowSeconds: 1, latenciesUs: [], received: 0, maxBehindAtLastPublish: 1, drainMs: 5, cpuSeconds: 1, serverCpuMs: 1, subscriberCpuMs: [1], mainCpuMs: 1, machineBusyMs: 10, clockErrorMs: 0, rssBeforeBytes: 0, rssWithBytes: 0, errors: 0, closed: 0 }
    expect(verdicts([step(1000, 10)])).toEqual({ p99AtMost100msAt5000: null, holds10000: null })
    expect(verdicts([step(5000, 90), step(10_000, 300)])).toEqual({ p99AtMost100msAt5000: true, holds10000: true })
    expect(verdicts([step(5000, 120), step(10_000, 300, 4)])).toEqual({ p99AtMost100msAt5000: false, holds10000: false })
  })
})

describe('bestOffset', () => {
  it('takes the ping with the shortest round trip and bounds its error by half of it', () => {
    // The other clock is 5 ms ahead; the slow pings were answered late in their round trips.
    const samples = [
      { sent: 100, remote: 115, received: 112 },
      { sent: 200, remote: 205.4, received: 201 },
      { sent: 300, remote: 309, received: 306 },
    ]
    const { offsetMs, errorMs } = bestOffset(samples)
    expect(offsetMs).toBeCloseTo(4.9, 9)
    expect(errorMs).toBe(0.5)
    expect(() => bestOffset([])).toThrow()
  })
})

describe('the fan-out benchmark, end to end at a tiny size', () => {
  it('runs two servers, subscribers in two processes and a publisher, with and without the fan-out', async () => {
    const { run } = await import('./index.ts')
    const summary = await run({ subscribers: [6], baseline: 6, seconds: 1, rate: 5, processes: 2 })
    expect(summary.benchmark).toBe('fanout')
    for (const step of [summary.fanout[0]!, summary.baseline!]) {
      expect(step.subscriberProcesses).toBe(2)
      // Read from /proc in 10 ms ticks: a 1 s window at this size may round to 0.
      expect(step.subscriberCpuPerSecond).toBeGreaterThanOrEqual(0)
      // Loopback IPC answers in well under a millisecond on an idle machine; the loose bound
      // only catches a broken calibration (NaN, Infinity), not a busy machine.
      expect(step.clockErrorMs).toBeLessThan(1000)
      expect(step.published).toBeGreaterThanOrEqual(4)
      expect(step.lost).toBe(0)
      expect(step.deliveries).toBe(step.published * 6)
      expect(step.errors).toBe(0)
      expect(step.saturated).toBe(false)
      expect(step.latencyMs.p99).toBeGreaterThan(0)
    }
    expect(summary.ratios?.cpuPerDelivery).not.toBeUndefined()
  }, 180_000)
})
