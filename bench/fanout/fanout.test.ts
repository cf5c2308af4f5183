import { describe, expect, it } from 'vitest'
import { OptionsError, ratio, readOptions, summarizeStep, verdicts, type StepObservation } from './summary.ts'

describe('readOptions', () => {
  it('defaults to 1,000 and 5,000 subscribers with a baseline at 1,000', () => {
    expect(readOptions([], {})).toEqual({ subscribers: [1000, 5000], baseline: 1000, seconds: 20, rate: 5 })
  })

  it('reads flags in both spellings, and 0 turns the baseline off', () => {
    expect(readOptions(['--subscribers', '10000', '--baseline=0', '--seconds', '5', '--rate=2'], {})).toEqual({ subscribers: [10000], baseline: null, seconds: 5, rate: 2 })
    expect(readOptions(['--subscribers=20'], { BENCH_SECONDS: '3' })).toMatchObject({ subscribers: [20], baseline: 20, seconds: 3 })
  })

  it.each([[['--subscribers', '0']], [['--subscribers', '1e3']], [['--rate', '-1']], [['--nope']], [['--seconds']]])('refuses %j', (argv) => {
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
    serverCpuMs: 10,
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
      rssPerSubscriberKiB: 2,
      errors: 0,
      closed: 0,
    })
  })

  it('says null when a reading is missing rather than guess', () => {
    const s = summarizeStep({ ...base, serverCpuMs: null, rssWithBytes: null, received: 0, latenciesUs: [], drainMs: null })
    expect(s).toMatchObject({ cpuMicrosPerDelivery: null, rssPerSubscriberKiB: null, lost: 6, latencyMs: { p50: null, p99: null }, saturated: true })
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
    const baseStep: StepObservation = { subscribers: 1, published: 0, windowSeconds: 1, latenciesUs: [], received: 0, maxBehindAtLastPublish: 1, drainMs: 5, serverCpuMs: 1, rssBeforeBytes: 0, rssWithBytes: 0, errors: 0, closed: 0 }
    expect(verdicts([step(1000, 10)])).toEqual({ p99AtMost100msAt5000: null, holds10000: null })
    expect(verdicts([step(5000, 90), step(10_000, 300)])).toEqual({ p99AtMost100msAt5000: true, holds10000: true })
    expect(verdicts([step(5000, 120), step(10_000, 300, 4)])).toEqual({ p99AtMost100msAt5000: false, holds10000: false })
  })
})

describe('the fan-out benchmark, end to end at a tiny size', () => {
  it('runs two servers, subscribers and a publisher, with and without the fan-out', async () => {
    const { run } = await import('./index.ts')
    const summary = await run({ subscribers: [6], baseline: 6, seconds: 1, rate: 5 })
    expect(summary.benchmark).toBe('fanout')
    for (const step of [summary.fanout[0]!, summary.baseline!]) {
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
