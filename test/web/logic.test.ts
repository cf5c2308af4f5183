import { describe, expect, it } from 'vitest'
import { commandRefusal as apiRefusal } from '../../schema/commands.ts'
import { canOperate, commandRefusal, CONTROLS, LEGAL } from '../../web/lib/commands.ts'
import {
  describeJudge,
  formatAgo,
  formatDuration,
  formatSignal,
  formatValue,
  readDecisionEvidence,
  readGateResultEvidence,
  ROLLOUT_STATUSES,
  stepLabel,
  stepWaitsFor,
  verdictLabel,
  verdictTone,
  versionsLabel,
} from '../../web/lib/format.ts'
import { mergeRows, newer, overlayEvent } from '../../web/lib/live-rows.ts'
import { latest, seriesBySignal, sparkline } from '../../web/lib/sparkline.ts'
import { matchesFilters, parseRolloutFilters, serializeRolloutFilters } from '../../web/lib/url-state.ts'

/** The dashboard's component logic: formatting, evidence reading, chart shaping, URL state, live merging. */
describe('formatting', () => {
  it.each([
    ['errorRate', 0.083, '8.3 %'],
    ['errorRate', 0.0042, '0.42 %'],
    ['errorRate', 0, '0 %'],
    ['errorRate', 0.25, '25 %'],
    ['latencyP95', 0.19, '190 ms'],
    ['latencyP95', 0.0405, '40.5 ms'],
    ['latencyP50', 0.0031, '3.1 ms'],
    ['latencyP99', 1.5, '1.5 s'],
    ['requestRate', 49.8, '49.8 req/s'],
    ['requestRate', 2.4, '2.4 req/s'],
    ['somethingElse', 0.12346, '0.1235'],
  ])('%s %f → %s', (signal, value, text) => {
    expect(formatSignal(signal, value)).toBe(text)
  })

  it('says "no data" for a missing value, never 0', () => {
    expect(formatValue(null, 'fraction')).toBe('no data')
    expect(formatValue(undefined, 'seconds')).toBe('no data')
    expect(formatValue(Number.NaN, 'req/s')).toBe('no data')
  })

  it('formats durations and ages', () => {
    expect(formatDuration(850)).toBe('850 ms')
    expect(formatDuration(15_000)).toBe('15 s')
    expect(formatDuration(125_000)).toBe('2 m 05 s')
    expect(formatDuration(3_720_000)).toBe('1 h 02 m')
    expect(formatDuration(-1)).toBe('—')
    const now = Date.parse('2026-01-01T12:00:00Z')
    expect(formatAgo('2026-01-01T11:59:59.500Z', now)).toBe('just now')
    expect(formatAgo('2026-01-01T11:59:48Z', now)).toBe('12 s ago')
    expect(formatAgo('2026-01-01T11:57:55Z', now)).toBe('2 m ago')
    expect(formatAgo(null, now)).toBe('—')
  })

  it('labels steps and says what the current one waits for', () => {
    expect(stepLabel({ kind: 'SET_WEIGHT', setWeight: 10 })).toBe('Set weight to 10 %')
    expect(stepLabel({ kind: 'ANALYZE', analyzeMin: '15s', analyzeMax: '2m' })).toBe('Analyse for 15s (up to 2m)')
    expect(stepLabel({ kind: 'PAUSE', pauseDuration: null })).toBe('Pause until someone resumes')
    expect(stepLabel({ kind: 'PAUSE', pauseDuration: '30s' })).toBe('Pause for 30s')
    expect(stepWaitsFor({ kind: 'ANALYZE', analyzeMin: '15s' }, 'PROGRESSING')).toMatch(/every gate must pass after 15s/)
    expect(stepWaitsFor({ kind: 'ANALYZE' }, 'PAUSED')).toMatch(/resume or promote/)
  })

  it('names verdicts and versions', () => {
    expect([verdictLabel('PASS'), verdictTone('PASS')]).toEqual(['Pass', 'good'])
    expect([verdictLabel('FAIL'), verdictTone('FAIL')]).toEqual(['Fail', 'bad'])
    expect([verdictLabel('INCONCLUSIVE'), verdictTone('INCONCLUSIVE')]).toEqual(['Inconclusive', 'warn'])
    expect([verdictLabel(null), verdictTone(null)]).toEqual(['Not judged yet', 'neutral'])
    expect(versionsLabel('v1', 'v2')).toBe('v1 → v2')
    expect(versionsLabel(null, 'v1')).toBe('v1 (first deploy)')
  })

  it('describes judges in the signal unit', () => {
    expect(describeJudge({ kind: 'threshold', max: 0.02 }, 'fraction')).toBe('threshold: at most 2 %')
    expect(describeJudge({ kind: 'relative', maxIncrease: 0.03, maxRatio: 1.5 }, 'fraction')).toBe('relative: at most 3 pp over baseline, at most 1.5× baseline')
    expect(describeJudge({ kind: 'relative', maxRatio: 2 }, 'seconds')).toBe('relative: at most 2× baseline')
    expect(describeJudge({ kind: 'sequential', alpha: 0.01 }, 'fraction')).toBe('sequential: sequential test (α 0.01)')
    expect(describeJudge({ kind: 'mannWhitney', direction: 'increase', allowedIncrease: 1.2, allowedDecrease: 1, confidence: 0.98, critical: false }, 'seconds')).toBe(
      'mannWhitney: fails when higher (allowed up to 1.2× baseline), 98 % confidence',
    )
    expect(describeJudge({ kind: 'mannWhitney', direction: 'either', allowedIncrease: 1.1, allowedDecrease: 0.9, critical: true }, null)).toBe(
      'mannWhitney: fails when higher or lower (allowed up to 1.1× baseline, down to 0.9× baseline), critical',
    )
    expect(describeJudge({ kind: 'anomaly', subject: 'baseline', direction: 'increase', falseAlarmRate: 0.001, window: '30m' }, 'fraction')).toBe(
      'anomaly: the stable version jumps against its own 30m history, false alarms 0.1 %',
    )
    expect(describeJudge({ kind: 'anomaly', subject: 'canary', direction: 'either', window: '2h', season: '1h' }, null)).toBe(
      'anomaly: the canary jumps or drops against its own 2h history, season 1h',
    )
    expect(describeJudge('nonsense', null)).toBe('—')
  })
})

describe('reading evidence', () => {
  it('reads a decision the controller stored', () => {
    const view = readDecisionEvidence({
      stepIndex: 1,
      step: 'ANALYZE',
      elapsedMs: 5100,
      fromWeight: 10,
      toWeight: 0,
      gates: [
        {
          gate: 'errors',
          verdict: 'FAIL',
          dryRun: false,
          value: 0.083,
          baseline: 0.008,
          reason: 'error rate 8.3 % vs 0.8 % baseline',
          inconclusiveStreak: 0,
          inconclusiveLimit: 30,
          evidence: { unit: 'fraction', canaryRequests: 48, baselineRequests: 420 },
        },
      ],
      command: null,
      canaryFailure: null,
    })
    expect(view).toEqual({
      step: 'ANALYZE',
      elapsedMs: 5100,
      command: null,
      canaryFailure: null,
      gates: [
        {
          gate: 'errors',
          verdict: 'FAIL',
          dryRun: false,
          value: 0.083,
          baseline: 0.008,
          unit: 'fraction',
          reason: 'error rate 8.3 % vs 0.8 % baseline',
          canaryRequests: 48,
          baselineRequests: 420,
        },
      ],
    })
  })

  it('survives evidence of another shape without throwing', () => {
    expect(readDecisionEvidence(null)).toEqual({ step: null, elapsedMs: null, gates: [], command: null, canaryFailure: null })
    const odd = readDecisionEvidence({ gates: [null, 3, { verdict: 'MAYBE' }], command: { kind: 'PAUSE', actor: 'ops', reason: 'look' }, canaryFailure: { reason: 'exit 1' } })
    expect(odd.gates).toEqual([
      { gate: '?', verdict: null, dryRun: false, value: null, baseline: null, unit: null, reason: '', canaryRequests: null, baselineRequests: null },
    ])
    expect(odd.command).toEqual({ kind: 'PAUSE', full: false, actor: 'ops', reason: 'look' })
    expect(odd.canaryFailure).toBe('exit 1')
    expect(readGateResultEvidence({ signal: 'latencyP95', baseline: 0.04 })).toEqual({ unit: 'seconds', baseline: 0.04, canaryRequests: null })
  })
})

describe('chart shaping', () => {
  const windows = [
    { startAt: '2026-01-01T00:00:05Z', endAt: '2026-01-01T00:00:10Z', canary: [{ signal: 'errorRate', value: 0.02 }, { signal: 'latencyP95', value: 0.1 }], baseline: [{ signal: 'errorRate', value: 0.01 }] },
    { startAt: '2026-01-01T00:00:00Z', endAt: '2026-01-01T00:00:05Z', canary: [{ signal: 'errorRate', value: null }], baseline: [{ signal: 'errorRate', value: 0.01 }] },
    { startAt: '2026-01-01T00:00:10Z', endAt: '2026-01-01T00:00:15Z', canary: [{ signal: 'errorRate', value: 0.04 }, { signal: 'custom', value: 1 }], baseline: [] },
  ]

  it('groups windows by signal, oldest first, known signals in their order', () => {
    const series = seriesBySignal(windows)
    expect(series.map((s) => s.signal)).toEqual(['errorRate', 'latencyP95', 'custom'])
    expect(series[0]!.points).toEqual([
      { t: Date.parse('2026-01-01T00:00:05Z'), canary: null, baseline: 0.01 },
      { t: Date.parse('2026-01-01T00:00:10Z'), canary: 0.02, baseline: 0.01 },
      { t: Date.parse('2026-01-01T00:00:15Z'), canary: 0.04, baseline: null },
    ])
    expect(latest(series[0]!.points)).toEqual({ canary: 0.04, baseline: 0.01 })
  })

  it('scales both lines on one axis from 0, breaks them where there is no data, and places decision markers', () => {
    const [errors] = seriesBySignal(windows)
    const box = { width: 104, height: 44, pad: 2 }
    const g = sparkline(errors!.points, box, [
      { at: '2026-01-01T00:00:10Z', label: 'Set weight' },
      { at: '2026-01-01T00:01:00Z', label: 'outside the range' },
    ])
    expect(g.yMax).toBeCloseTo(0.046)
    // Canary: no point at the first window; then x 50 → 102.
    expect(g.canary).toBe('M52 24.6 L102 7.2')
    // Baseline: the first two windows, then a gap at the third.
    expect(g.baseline).toBe('M2 33.3 L52 33.3')
    expect(g.markers).toEqual([{ x: 52, label: 'Set weight' }])
    expect(g.lastCanary).toEqual({ x: 102, y: 7.2 })
  })

  it('draws nothing for no points, and a visible stub for a single one', () => {
    expect(sparkline([], { width: 100, height: 40, pad: 2 }).canary).toBe('')
    const one = sparkline([{ t: 1, canary: 0.5, baseline: null }], { width: 100, height: 40, pad: 2 })
    expect(one.canary).toBe('M96 6.7 L98 6.7')
    expect(one.baseline).toBe('')
  })
})

describe('URL state of the rollout list', () => {
  it('parses and writes the filters, dropping what the API would refuse', () => {
    expect(parseRolloutFilters(new URLSearchParams('application=demo&status=paused,PROGRESSING,NOPE'))).toEqual({ application: 'demo', status: ['PROGRESSING', 'PAUSED'] })
    expect(parseRolloutFilters({ status: ['ROLLED_BACK', 'SUCCEEDED'], application: 'bad name!' })).toEqual({ application: null, status: ['SUCCEEDED', 'ROLLED_BACK'] })
    expect(parseRolloutFilters({})).toEqual({ application: null, status: [] })
    expect(serializeRolloutFilters({ application: 'demo', status: ['PAUSED', 'PROGRESSING'] })).toBe('?application=demo&status=PROGRESSING,PAUSED')
    expect(serializeRolloutFilters({ application: null, status: [] })).toBe('')
    for (const query of ['?application=shop', '?status=FAILED', '?application=a-1&status=PENDING,ABORTED']) {
      expect(serializeRolloutFilters(parseRolloutFilters(new URLSearchParams(query)))).toBe(query)
    }
  })

  it('matches rows against the filters', () => {
    const row = { applicationName: 'demo', status: 'PAUSED' as const }
    expect(matchesFilters({ application: null, status: [] }, row)).toBe(true)
    expect(matchesFilters({ application: 'demo', status: ['PAUSED'] }, row)).toBe(true)
    expect(matchesFilters({ application: 'other', status: [] }, row)).toBe(false)
    expect(matchesFilters({ application: null, status: ['PROGRESSING'] }, row)).toBe(false)
  })
})

describe('live rows', () => {
  const row = (id: string, seq: number, createdAt: string, status = 'PROGRESSING') => ({ id, seq, createdAt, status })

  it('keeps the newer of the query and the events, adds new rollouts, newest first', () => {
    const queried = [row('b', 3, '2026-01-01T00:00:02Z'), row('a', 9, '2026-01-01T00:00:01Z')]
    let overlay = overlayEvent(undefined, row('b', 5, '2026-01-01T00:00:02Z', 'PAUSED'))
    overlay = overlayEvent(overlay, row('a', 7, '2026-01-01T00:00:01Z', 'STALE'))
    overlay = overlayEvent(overlay, row('c', 0, '2026-01-01T00:00:03Z'))
    // An older event for b (delivered late) does not win over the newer one.
    overlay = overlayEvent(overlay, row('b', 4, '2026-01-01T00:00:02Z', 'OLDER'))
    const merged = mergeRows(queried, overlay)
    expect(merged.map((r) => [r.id, r.seq, r.status])).toEqual([
      ['c', 0, 'PROGRESSING'],
      ['b', 5, 'PAUSED'],
      ['a', 9, 'PROGRESSING'],
    ])
    expect(mergeRows(queried, overlay, (r) => r.status === 'PAUSED').map((r) => r.id)).toEqual(['b'])
    expect(newer({ seq: 2 }, { seq: 1 })).toEqual({ seq: 2 })
    expect(newer(null, { seq: 1 })).toEqual({ seq: 1 })
    expect(newer(undefined, undefined)).toBeNull()
  })
})

describe('controls', () => {
  it('agree with the API on which command is legal in which status', () => {
    for (const kind of Object.keys(LEGAL) as (keyof typeof LEGAL)[]) {
      for (const status of ROLLOUT_STATUSES) {
        expect(commandRefusal(kind, status) === null, `${kind} when ${status}`).toBe(apiRefusal(kind, status) === null)
      }
    }
  })

  it('say why a control is disabled, and are for operate and admin tokens only', () => {
    expect(commandRefusal('RESUME', 'PROGRESSING')).toBe('Not while progressing; allowed when paused.')
    expect(CONTROLS.map((c) => c.label)).toEqual(['Promote step', 'Promote fully', 'Pause', 'Resume', 'Roll back', 'Abort'])
    expect([canOperate('READ'), canOperate('OPERATE'), canOperate('ADMIN'), canOperate(null)]).toEqual([false, true, true, false])
  })
})
