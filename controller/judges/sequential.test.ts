import { describe, expect, it, vi } from 'vitest'
import type { GateSpec, SequentialJudgeSpec } from '../../schema/spec.ts'
import type { WindowSample } from '../telemetry/provider.ts'
import { judgeFor } from './index.ts'
import { judgeSequential, sequentialSupport } from './sequential.ts'
import { loopWindows, lognormal, seededRandom, simulateSeconds, windowOver } from './sequential-sim.ts'
import { queryGate, signalGate, windowOf } from './testing.ts'

// Seeded simulations: slow on a busy machine, never flaky (no timing asserted).
vi.setConfig({ testTimeout: 120_000 })

const spec: SequentialJudgeSpec = { kind: 'sequential', alpha: 0.01 }
const errors = signalGate('errorRate', spec)
const p95 = signalGate('latencyP95', spec)
const BASE = Date.UTC(2025, 0, 1, 12)

/** A window over [from, to) seconds with the given counts. */
function counts(from: number, to: number, cr: number | null, ce: number | null, br: number | null, be: number | null, provider = 'builtin'): WindowSample {
  return {
    provider,
    start: new Date(BASE + from * 1000),
    end: new Date(BASE + to * 1000),
    canaryWeight: 10,
    canary: { version: 'v2', requests: cr, errors: ce, values: { errorRate: cr ? (ce ?? 0) / cr : null } },
    baseline: { version: 'v1', requests: br, errors: be, values: { errorRate: br ? (be ?? 0) / br : null } },
  }
}

/** Consecutive disjoint 5 s windows, all with the same counts. */
function repeated(n: number, cr: number, ce: number, br: number, be: number): WindowSample[] {
  return Array.from({ length: n }, (_, i) => counts(i * 5, i * 5 + 5, cr, ce, br, be))
}

const num = (v: unknown): number => v as number

describe('the sequential judge: registration and support', () => {
  it('is what judgeFor returns for kind sequential', () => {
    const judge = judgeFor(spec)
    expect(judge.kind).toBe('sequential')
    expect(judge.judge(repeated(3, 100, 30, 1900, 10), errors).verdict).toBe('FAIL')
  })

  it('says which signals it supports', () => {
    expect(sequentialSupport(errors)).toEqual({ ok: true, test: 'errors' })
    expect(sequentialSupport(p95)).toEqual({ ok: true, test: 'latency' })
    const rate = judgeSequential(spec, repeated(3, 100, 1, 100, 1), signalGate('requestRate', spec))
    expect(rate.verdict).toBe('INCONCLUSIVE')
    expect(rate.reason).toMatch(/supports error counts .* use the threshold or relative judge for requestRate/)
    const query = judgeSequential(spec, repeated(3, 100, 1, 100, 1), queryGate('queue', spec))
    expect(query.verdict).toBe('INCONCLUSIVE')
    expect(query.reason).toMatch(/a prometheus query gives one value per window: use the relative judge for queue/)
    expect(query.evidence['state']).toBe('unsupported')
  })

  it('asks for counts of ratio-only signals', () => {
    const v = judgeSequential(spec, repeated(3, 100, 1, 100, 1), signalGate('traceErrorRate', spec))
    expect(v.verdict).toBe('INCONCLUSIVE')
    expect(v.reason).toMatch(/traceErrorRate only as a ratio; the sequential judge needs its counts \(traceErrorRate\.errors, traceErrorRate\.total\)/)
    const withCounts = repeated(3, 100, 1, 100, 1).map((w) => ({
      ...w,
      canary: { ...w.canary, values: { 'traceErrorRate.errors': 30, 'traceErrorRate.total': 100 } },
      baseline: { ...w.baseline, values: { 'traceErrorRate.errors': 10, 'traceErrorRate.total': 1900 } },
    }))
    expect(judgeSequential(spec, withCounts, signalGate('traceErrorRate', spec)).verdict).toBe('FAIL')
  })
})

describe('the sequential judge on error counts', () => {
  it('fails a clear regression, in plain words and numbers', () => {
    // 5 s windows at 10 canary req/s (5 % of 200 req/s): 4.8 % vs 0.5 % errors.
    const v = judgeSequential(spec, repeated(6, 50, 2.4, 950, 4.75), errors)
    expect(v.verdict).toBe('FAIL')
    expect(v.reason).toMatch(/^canary error rate 4\.8 % vs 0\.5 % baseline over 300 canary requests and 5,700 baseline requests in 30 s: e-value [\d,.e+]+ ≥ 100 = 1\/alpha$/)
    expect(v.value).toBeCloseTo(0.048, 6)
    expect(v.baseline).toBeCloseTo(0.005, 6)
    const e = v.evidence
    expect(e['judge']).toBe('sequential')
    expect(e['state']).toBe('regression')
    expect(num(e['eValue'])).toBeGreaterThanOrEqual(100)
    expect(e['threshold']).toBe(100)
    expect(e['canaryRequestsTotal']).toBe(300)
    expect(e['baselineErrorsTotal']).toBeCloseTo(28.5, 9)
    expect(e['intervals']).toBe(6)
    expect(num(e['ratioEstimate'])).toBeCloseTo(0.048 / 0.005, 1)
    expect(JSON.parse(JSON.stringify(e))).toEqual(e)
  })

  it('collects evidence before it has enough, saying how far it is', () => {
    const v = judgeSequential(spec, repeated(1, 50, 1, 950, 5), errors)
    expect(v.verdict).toBe('INCONCLUSIVE')
    expect(v.reason).toMatch(/^collecting evidence: e-value [\d.]+ of 100 needed; canary error rate 2\.0 % vs 0\.5 % baseline over 50 canary requests and 950 baseline requests in 5 s; /)
    expect(v.evidence['state']).toBe('collecting')
    expect(num(v.evidence['eValue'])).toBeLessThan(100)
  })

  it('passes a healthy canary only once the ratio bound is below the margin (ratio route alone)', () => {
    // 50 % weight, 2 % errors on both sides: 2500 requests and 50 errors per side per window.
    const ratioOnly = { rateMargin: null }
    const few = judgeSequential(spec, repeated(1, 500, 10, 500, 10), errors, ratioOnly)
    expect(few.verdict).toBe('INCONCLUSIVE')
    expect(few.reason).toMatch(/ratio at most ×[\d.]+ so far, ×2 needed to pass/)
    const many = judgeSequential(spec, repeated(40, 2500, 50, 2500, 50), errors, ratioOnly)
    expect(many.verdict).toBe('PASS')
    expect(many.reason).toMatch(
      /^canary error rate 2\.0 % vs 2\.0 % baseline over 100,000 canary requests and 100,000 baseline requests in 3 min 20 s: ≤ ×2 the baseline \(ratio at most ×1\.\d+\) with 99 % confidence; e-value [\d,.e+]+ ≥ 100 = 1\/alpha$/,
    )
    expect(num(many.evidence['ratioUpperBound'])).toBeLessThan(2)
    expect(many.evidence['state']).toBe('non-inferior')
    expect(many.evidence['passedBy']).toBe('ratio')
  })

  it('passes an error-free canary below the floor, even without baseline errors (ratio and floor routes)', () => {
    const ratioOnly = { rateMargin: null }
    const v = judgeSequential(spec, repeated(20, 1000, 0, 1000, 0), errors, ratioOnly)
    expect(v.verdict).toBe('PASS')
    expect(v.reason).toMatch(/below the 0\.1 % floor with 99 % confidence/)
    // Without a floor nothing can be shown: no errors anywhere is no evidence about a ratio.
    expect(judgeSequential(spec, repeated(20, 1000, 0, 1000, 0), errors, { errorFloor: null, rateMargin: null }).verdict).toBe('INCONCLUSIVE')
  })

  it('treats error rates below the floor as fine, as the relative judge does', () => {
    // 0.05 % vs 0.005 %: ten times worse, but both far below the 0.1 % floor.
    const tiny = repeated(40, 20_000, 10, 20_000, 1)
    const v = judgeSequential(spec, tiny, errors, { rateMargin: null })
    expect(v.verdict).toBe('PASS')
    expect(v.reason).toMatch(/below the 0\.1 % floor/)
    expect(judgeSequential(spec, tiny, errors, { errorFloor: null }).verdict).toBe('FAIL')
    // At the floor: the ratio is clear, but neither above nor below the floor is.
    const atFloor = judgeSequential(spec, repeated(10, 10_000, 10, 10_000, 1), errors, { rateMargin: null })
    expect(atFloor.verdict).toBe('INCONCLUSIVE')
    expect(atFloor.reason).toMatch(/worse than the baseline \(e-value [\d.e+,]+\) but not yet shown above the 0\.1 % floor$/)
  })

  it.each<[string, WindowSample[]]>([
    ['no window', []],
    ['no traffic', repeated(50, 0, 0, 0, 0)],
    ['no canary traffic', repeated(50, 0, 0, 1000, 10)],
    ['no baseline traffic', repeated(50, 1000, 10, 0, 0)],
    ['all errors on both sides', repeated(200, 1000, 1000, 1000, 1000)],
    ['most errors on both sides', repeated(200, 1000, 600, 1000, 600)],
    ['NaN counts', repeated(50, Number.NaN, 1, 1000, 1)],
    ['null counts', repeated(50, null as unknown as number, 1, 1000, 1)],
    ['null errors', [counts(0, 5, 1000, null, 1000, 0)]],
    ['infinite counts', repeated(50, Number.POSITIVE_INFINITY, 0, 1000, 1)],
    ['negative counts', repeated(50, -100, -1, 1000, 1)],
    ['more errors than requests', repeated(50, 10, 20, 1000, 1)],
    ['a single ordinary window', [windowOf({ canary: 0.01, baseline: 0.01, canaryRequests: 100, baselineRequests: 100 })]],
    ['a window that ends before it starts', [counts(10, 5, 100_000, 0, 100_000, 0)]],
    ['invalid dates', [{ ...counts(0, 5, 100_000, 0, 100_000, 0), start: new Date(Number.NaN) }]],
  ])('degenerate input: %s is INCONCLUSIVE, never PASS', (_name, history) => {
    const v = judgeSequential(spec, history, errors)
    expect(v.verdict).toBe('INCONCLUSIVE')
    expect(v.reason.length).toBeGreaterThan(10)
    expect(JSON.parse(JSON.stringify(v.evidence))).toEqual(v.evidence)
  })

  it('never passes a canary that fails most requests, but passes one that fixes a failing baseline', () => {
    const broken = judgeSequential(spec, repeated(200, 1000, 1000, 1000, 1000), errors)
    expect(broken.reason).toMatch(/more than half of the canary's requests fail, so a ratio cannot show it is fine$/)
    expect(judgeSequential(spec, repeated(10, 1000, 10, 1000, 800), errors).verdict).toBe('PASS')
  })

  it('explains unusable counts', () => {
    expect(judgeSequential(spec, repeated(3, -100, -1, 1000, 1), errors).reason).toBe(
      'no usable error rate counts yet: the canary counts are negative (-100 requests, -1 errors)',
    )
    expect(judgeSequential(spec, [counts(0, 5, 1000, null, 1000, 0)], errors).reason).toBe(
      'no usable error rate counts yet: the provider does not count canary requests and errors',
    )
    // Zero requests are counts, not missing telemetry (low traffic): collecting, bounded by the analysis's max.
    const idle = judgeSequential(spec, repeated(3, 0, 0, 0, 0), errors)
    expect(idle.reason).toBe('collecting evidence: 0 requests so far; the test counts pools of at least 10')
    expect(idle.evidence['state']).toBe('collecting')
  })

  it('an invalid alpha is INCONCLUSIVE', () => {
    expect(judgeSequential({ kind: 'sequential', alpha: 0 }, repeated(3, 100, 90, 100, 0), errors).verdict).toBe('INCONCLUSIVE')
    expect(judgeSequential({ kind: 'sequential', alpha: Number.NaN }, repeated(3, 100, 90, 100, 0), errors).verdict).toBe('INCONCLUSIVE')
  })
})

describe('overlapping windows', () => {
  it('count every request once, as the loop samples them', () => {
    const random = seededRandom(99)
    const seconds = simulateSeconds(random, { requestsPerSecond: 200, weightAt: (t) => (t < 150 ? 5 : 25), baselineErrorAt: () => 0.005, canaryErrorAt: () => 0.005 }, 300)
    const steps = [
      { start: 0, seconds: 150, weight: 5 },
      { start: 150, seconds: 150, weight: 25 },
    ]
    const truth = seconds.reduce((a, s) => a + s.canaryRequests, 0)
    const disjoint = judgeSequential(spec, loopWindows(seconds, steps, { disjoint: true }), errors).evidence
    expect(disjoint['canaryRequestsTotal']).toBe(truth)
    expect(disjoint['windows']).toEqual({ seen: 60, overlapping: 0, invalid: 0, inconsistent: 0 })
    // The loop's windows overlap: the judge uses the first minute of each step tick by tick,
    // then whole windows that start after what it used; never more than the truth.
    const loop = judgeSequential(spec, loopWindows(seconds, steps), errors).evidence
    expect(num(loop['canaryRequestsTotal'])).toBeLessThanOrEqual(truth)
    expect(num(loop['canaryRequestsTotal'])).toBeGreaterThan(0.75 * truth)
    expect(num(loop['intervals'])).toBe(2 * (12 + 1))
  })

  it('a burst seen by many overlapping windows counts once', () => {
    // 2 canary errors in one 5 s window (p0 = 5 %): suspicious, not conclusive.
    const burst = counts(0, 5, 50, 2, 950, 0)
    const once = judgeSequential(spec, [burst], errors)
    expect(once.verdict).toBe('INCONCLUSIVE')
    // The loop keeps re-reading windows that contain it: the same window, then sliding ones.
    const again = judgeSequential(spec, Array.from({ length: 30 }, () => burst), errors)
    expect(again.verdict).toBe('INCONCLUSIVE')
    expect(again.evidence['eValue']).toBe(once.evidence['eValue'])
    const sliding = Array.from({ length: 30 }, (_, i) => counts(-i * 0.2, 5 + i * 0.2, 50, 2, 950, 0))
    expect(judgeSequential(spec, sliding, errors).evidence['eValue']).toBe(once.evidence['eValue'])
    // Naively multiplying the windows' evidence would have failed it.
    expect(num(once.evidence['eValue']) ** 2).toBeGreaterThan(100)
  })

  it('differences windows that grow from the step start', () => {
    const history = [counts(0, 5, 50, 1, 950, 5), counts(0, 10, 100, 1, 1900, 10), counts(0, 15, 150, 2, 2850, 15)]
    const e = judgeSequential(spec, history, errors).evidence
    expect(e['canaryRequestsTotal']).toBe(150)
    expect(e['canaryErrorsTotal']).toBe(2)
    expect(e['intervals']).toBe(3)
  })
})

describe('weight changes between intervals', () => {
  it('are judged per interval: no Simpson-paradox alarm', () => {
    // Errors are frequent (5 %) while the canary has 50 %, rare (0.1 %) while it has 5 %:
    // identical error rates at every moment, yet pooled the canary looks 2.5 times worse.
    const history: WindowSample[] = []
    for (let i = 0; i < 6; i++) {
      history.push(counts(i * 20, i * 20 + 10, 500, 25, 500, 25))
      history.push(counts(i * 20 + 10, i * 20 + 20, 50, 0, 950, 1))
    }
    const v = judgeSequential(spec, history, errors)
    expect(v.verdict).toBe('INCONCLUSIVE')
    expect(num(v.evidence['eValue'])).toBeLessThan(1)
    expect(num(v.value) / num(v.baseline)).toBeGreaterThan(2.4)

    // A pooled share test (one p0 for all the traffic) would have cried wolf.
    const cr = 6 * 550
    const br = 6 * 1450
    const x = 6 * 25
    const n = 6 * 51
    const p0 = cr / (cr + br)
    const pooledLogLR = (theta: number): number => x * Math.log(theta) - n * Math.log1p((theta - 1) * p0)
    expect(Math.max(...[1.5, 2, 3].map(pooledLogLR))).toBeGreaterThan(Math.log(100))
  })

  it('a canary that gets more than its share of traffic is not blamed for it', () => {
    // The weight says 5 %, but the canary got half the requests (sticky clients): p0 comes
    // from the counts, not from the weight.
    const history = repeated(30, 1000, 10, 1000, 10).map((w) => ({ ...w, canaryWeight: 5 }))
    expect(judgeSequential(spec, history, errors).verdict).not.toBe('FAIL')
  })
})

describe('the sequential judge on latency', () => {
  const plan = (slowdown: number) => ({
    requestsPerSecond: 100,
    weightAt: () => 20,
    baselineErrorAt: () => 0,
    canaryErrorAt: () => 0,
    baselineLatency: lognormal(0.04, 0.3),
    canaryLatency: lognormal(0.04 * slowdown, 0.3),
  })

  it('fails a clearly slower canary on disjoint windows', () => {
    const seconds = simulateSeconds(seededRandom(5), plan(2), 60)
    const history = loopWindows(seconds, [{ start: 0, seconds: 60, weight: 20 }], { disjoint: true })
    const v = judgeSequential(spec, history, p95)
    expect(v.verdict).toBe('FAIL')
    expect(v.reason).toMatch(/^p95 \d+ ms vs [\d.]+ ms baseline in the latest disjoint window: the canary is slower in \d+ of \d+ disjoint windows; e-value [\d,.e+]+ ≥ 100 = 1\/alpha$/)
    expect(v.evidence['state']).toBe('regression')
  })

  it('never fails on one window, however slow', () => {
    const seconds = simulateSeconds(seededRandom(6), plan(10), 5)
    expect(judgeSequential(spec, [windowOver(seconds, 0, 5, 20)], p95).verdict).toBe('INCONCLUSIVE')
  })

  it('passes a canary that is as fast as its baseline', () => {
    const seconds = simulateSeconds(seededRandom(7), plan(1), 120)
    const v = judgeSequential(spec, loopWindows(seconds, [{ start: 0, seconds: 120, weight: 20 }], { disjoint: true }), p95)
    expect(v.verdict).toBe('PASS')
    expect(v.reason).toMatch(/not ×1\.5 slower in \d+ of \d+ disjoint windows/)
  })

  it('uses only disjoint windows from the loop', () => {
    const seconds = simulateSeconds(seededRandom(8), plan(2), 120)
    const v = judgeSequential(spec, loopWindows(seconds, [{ start: 0, seconds: 120, weight: 20 }]), p95)
    // The first window, then the first whole window after it: 0–5 s and 60–120 s.
    expect(v.evidence['disjointWindows']).toBe(2)
  })

  it('is INCONCLUSIVE without quantiles, counts or the built-in histogram', () => {
    const none = judgeSequential(spec, [windowOf({ key: 'latencyP95', canary: 0.2, baseline: 0.1 })], p95)
    expect(none.verdict).toBe('INCONCLUSIVE')
    expect(none.reason).toBe('no window with p95 quantiles and request counts for both versions yet')
    const seconds = simulateSeconds(seededRandom(9), plan(3), 60)
    const prometheus = loopWindows(seconds, [{ start: 0, seconds: 60, weight: 20 }], { disjoint: true }).map((w) => ({ ...w, provider: 'prometheus' }))
    const foreign = judgeSequential(spec, prometheus, p95)
    expect(foreign.verdict).toBe('INCONCLUSIVE')
    expect(foreign.reason).toMatch(/unknown resolution: use the relative judge/)
  })
})

describe('running analyses (judge.start): fed window by window', () => {
  it('latency: at every tick, the verdict of the whole history judged at once, per margin, and asking twice changes nothing', () => {
    const seconds = simulateSeconds(seededRandom(12), { requestsPerSecond: 100, weightAt: () => 20, baselineErrorAt: () => 0, canaryErrorAt: () => 0, baselineLatency: lognormal(0.04, 0.3), canaryLatency: lognormal(0.046, 0.3) }, 90)
    const history = loopWindows(seconds, [{ start: 0, seconds: 90, weight: 20 }], { disjoint: true })
    const tight: SequentialJudgeSpec = { ...spec, margin: 0.05 }
    const verdicts = new Set<string>()
    for (const settings of [spec, tight]) {
      const run = judgeFor(settings).start!(p95)
      for (let n = 1; n <= history.length; n++) {
        run.add(history[n - 1]!)
        const running = run.verdict()
        expect(run.verdict()).toEqual(running)
        expect(running).toEqual(judgeSequential(settings, structuredClone(history.slice(0, n)), p95))
        verdicts.add(`${settings.margin ?? 'default'} ${running.verdict}`)
      }
      expect(run.samples).toBe(history.length)
    }
    // The margins lead to different verdicts on these windows: runs sharing state would show.
    expect(verdicts).toEqual(new Set(['default INCONCLUSIVE', 'default PASS', '0.05 INCONCLUSIVE']))
  })

  it('errors: at every tick, the verdict of the whole history, overlapping windows and weight changes included', () => {
    const random = seededRandom(21)
    const seconds = simulateSeconds(random, { requestsPerSecond: 200, weightAt: (t) => (t < 60 ? 5 : 25), baselineErrorAt: () => 0.005, canaryErrorAt: (t) => (t < 100 ? 0.005 : 0.03) }, 160)
    const history = loopWindows(seconds, [{ start: 0, seconds: 60, weight: 5 }, { start: 60, seconds: 100, weight: 25 }])
    const run = judgeFor(spec).start!(errors)
    const seen = new Set<string>()
    history.forEach((window, i) => {
      run.add(window)
      const running = run.verdict()
      expect(running).toEqual(judgeSequential(spec, history.slice(0, i + 1), errors))
      seen.add(running.verdict)
    })
    expect(seen).toContain('FAIL')
  })

  it('before any window: INCONCLUSIVE for want of data, never PASS; settings it cannot use say why on every verdict', () => {
    expect(judgeFor(spec).start!(errors).verdict()).toMatchObject({ verdict: 'INCONCLUSIVE', evidence: { state: 'no-data' } })
    const refused = judgeFor({ ...spec, alpha: 2 }).start!(errors)
    refused.add(windowOf({ canary: 0.01, baseline: 0.01 }))
    expect(refused.verdict()).toMatchObject({ verdict: 'INCONCLUSIVE', reason: 'alpha must be in (0, 1), got 2', evidence: { state: 'unsupported' } })
    expect(refused.samples).toBe(1)
  })
})

describe('cost', () => {
  it('judges a full history (600 windows) in a few milliseconds', () => {
    const random = seededRandom(11)
    const seconds = simulateSeconds(random, { requestsPerSecond: 200, weightAt: () => 10, baselineErrorAt: () => 0.01, canaryErrorAt: () => 0.01 }, 3000)
    const history = loopWindows(seconds, [{ start: 0, seconds: 3000, weight: 10 }], { disjoint: true })
    expect(history).toHaveLength(600)
    const gate: GateSpec = errors
    judgeSequential(spec, history, gate)
    const t0 = performance.now()
    for (let i = 0; i < 10; i++) judgeSequential(spec, history, gate)
    const perCall = (performance.now() - t0) / 10
    expect(perCall).toBeLessThan(50)
  })
})

describe('the sequential judge: non-inferiority in percentage points (the spec’s margin)', () => {
  it('passes a healthy canary once its error rate is shown ≤ baseline + 1 pp and ≤ ×2 the baseline, saying so with numbers', () => {
    // 0.3 % errors on both sides, 10,000 requests a side per window.
    const early = judgeSequential(spec, repeated(1, 2_000, 6, 2_000, 6), errors)
    expect(early.verdict).toBe('INCONCLUSIVE')
    expect(early.reason).toMatch(/ratio at most ×[\d.]+ so far, ×2 needed to pass$/)
    const v = judgeSequential(spec, repeated(4, 10_000, 30, 10_000, 30), errors)
    expect(v.verdict).toBe('PASS')
    expect(v.reason).toMatch(
      /^canary error rate ≤ baseline \+ 1 pp and ≤ ×2 the baseline \(ratio at most ×1\.\d+\) with 99 % confidence after 40,000 canary requests \(measured 0\.3 % vs 0\.3 % baseline over 20 s; canary at most [\d.]+ %, baseline at least [\d.]+ %; ratio e-value [\d,.e+]+ ≥ 100 = 1\/alpha\)$/,
    )
    expect(v.evidence['passedBy']).toBe('rate-margin+ratio')
    expect(num(v.evidence['headroom'])).toBeGreaterThan(0.9)
    expect(num(v.evidence['canaryRateUpperBound'])).toBeLessThan(num(v.evidence['baselineRateLowerBound']) + 0.01)
  })

  it('never passes a doubled error rate, however few points it adds (the ratio margin, spec maxRatio)', () => {
    // 0.6 % against 0.3 %: +0.3 pp is well within 1 pp, but ×2.
    const doubled = repeated(40, 20_000, 120, 20_000, 60)
    expect(judgeSequential(spec, doubled, errors).verdict).not.toBe('PASS')
    // Early, before the FAIL: collecting, and the ratio is what is missing.
    const early = judgeSequential(spec, repeated(1, 4_000, 24, 4_000, 12), errors)
    expect(early.verdict).toBe('INCONCLUSIVE')
  })

  it('uses the spec’s margin: a wider one passes sooner, a narrower one later', () => {
    const history = repeated(2, 5_000, 15, 5_000, 15)
    expect(judgeSequential({ ...spec, margin: 0.002 }, history, errors).verdict).toBe('INCONCLUSIVE')
    const wide = judgeSequential({ ...spec, margin: 0.01, maxRatio: 5 }, history, errors)
    expect(wide.verdict).toBe('PASS')
    expect(wide.reason).toMatch(/≤ baseline \+ 1 pp and ≤ ×5 the baseline \(ratio at most ×[\d.]+\) with 99 % confidence/)
  })

  it('reports less headroom the closer the canary’s estimate is to the margin', () => {
    // 0.4 % against 0.3 %: within 0.5 pp, a fifth of it used (and a 27th of a ×10 ratio margin).
    const v = judgeSequential({ ...spec, margin: 0.005, maxRatio: 10 }, repeated(4, 10_000, 40, 10_000, 30), errors)
    expect(v.verdict).toBe('PASS')
    expect(num(v.evidence['headroom'])).toBeCloseTo(0.8, 2)
  })

  it('never passes a canary worse than baseline + margin, however much data', () => {
    // 1 % against 0.3 %: 0.7 pp worse, more than the 0.5 pp margin (and ×3.3, more than ×1.5).
    const v = judgeSequential(spec, repeated(40, 20_000, 200, 20_000, 60), errors)
    expect(v.verdict).not.toBe('PASS')
  })

  it('reads the spec’s margin as a share for latency: 0.5 = not 1.5 × slower', () => {
    const random = seededRandom(7)
    const same = lognormal(0.05, 0.4)
    const seconds = simulateSeconds(random, { requestsPerSecond: 200, weightAt: () => 50, baselineErrorAt: () => 0, canaryErrorAt: () => 0, baselineLatency: same, canaryLatency: same }, 120)
    const windows = loopWindows(seconds, [{ start: 0, seconds: 120, weight: 50 }], { disjoint: true })
    const v = judgeSequential({ ...spec, margin: 0.5 }, windows, p95)
    expect(v.verdict).toBe('PASS')
    expect(v.reason).toMatch(/not ×1\.5 slower/)
    expect(v.evidence['passedBy']).toBe('latency')
    expect(num(v.evidence['headroom'])).toBeGreaterThan(0.5)
    // A margin of 200 % (not 3 × slower) is a latency margin, not an out-of-range error margin.
    expect(judgeSequential({ ...spec, margin: 2 }, windows, p95).verdict).toBe('PASS')
  })

  it('rejects a nonsense margin given directly (the spec validates it first)', () => {
    const v = judgeSequential(spec, repeated(3, 100, 1, 100, 1), errors, { rateMargin: 2 })
    expect(v.verdict).toBe('INCONCLUSIVE')
    expect(v.reason).toMatch(/the margin must be a share in \(0, 1\), got 2/)
  })
})
