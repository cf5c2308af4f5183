import { describe, expect, it } from 'vitest'
import type { GateSpec } from '../../schema/spec.ts'
import type { GateEvaluation } from '../evaluate.ts'
import type { GateVerdict } from '../judges/judge.ts'
import type { MachineState } from '../rollout/types.ts'
import type { WindowSample } from '../telemetry/provider.ts'
import { HISTORY_LIMIT, type StreakRecord, gateInputs, inconclusiveStreaks, nextTickDelayMs, rememberWindows, streakLookback } from './gates.ts'

const T0 = Date.UTC(2026, 0, 1)

function record(gate: string, verdict: StreakRecord['verdict'], at: number, stepIndex = 1, collecting = false): StreakRecord {
  return { gate, verdict, at: new Date(T0 + at), stepIndex, evidence: collecting ? { state: 'collecting' } : {} }
}

function gate(name: string, inconclusiveLimit = 6): GateSpec {
  return { name, signal: 'errorRate', judge: { kind: 'sequential', alpha: 0.01 }, dryRun: false, inconclusiveLimit }
}

function thresholdGate(name: string): GateSpec {
  return { name, signal: 'errorRate', judge: { kind: 'threshold', max: 0.01 }, dryRun: false, inconclusiveLimit: 6 }
}

function verdict(name: string, v: GateVerdict['verdict'], collecting = false): GateVerdict {
  return { gate: name, verdict: v, value: null, baseline: null, reason: '', evidence: collecting ? { state: 'collecting' } : {} }
}

function sample(at: number): WindowSample {
  const version = { version: 'v', requests: 1, errors: 0, values: {} }
  return { provider: 'builtin', start: new Date(T0), end: new Date(T0 + at), canaryWeight: 10, canary: version, baseline: version }
}

describe('a tick’s gate inputs', () => {
  it('counts consecutive INCONCLUSIVE results of the current step since its clock, newest backwards', () => {
    const results = [record('a', 'INCONCLUSIVE', 1), record('a', 'PASS', 2), record('a', 'INCONCLUSIVE', 3), record('a', 'INCONCLUSIVE', 4), record('b', 'INCONCLUSIVE', 4)]
    expect(inconclusiveStreaks(results, 1, null)).toEqual(new Map([['a', 2], ['b', 1]]))
    // Another step's results, results before the step's clock, and "collecting" ones close the streak.
    expect(inconclusiveStreaks(results, 2, null).size).toBe(0)
    expect(inconclusiveStreaks(results, 1, T0 + 4).get('a')).toBe(1)
    expect(inconclusiveStreaks([...results, record('a', 'INCONCLUSIVE', 5, 1, true)], 1, null).has('a')).toBe(false)
  })

  it('turns evaluations into inputs: a new INCONCLUSIVE extends the streak, collecting evidence does not', () => {
    const evaluations: GateEvaluation[] = [
      { gate: gate('a'), verdict: verdict('a', 'INCONCLUSIVE'), sample: null },
      { gate: gate('b'), verdict: verdict('b', 'INCONCLUSIVE', true), sample: null },
      { gate: { ...gate('c'), dryRun: true }, verdict: verdict('c', 'FAIL'), sample: null },
    ]
    expect(gateInputs(evaluations, new Map([['a', 2], ['b', 4]])).map((g) => [g.verdict.gate, g.inconclusiveStreak, g.dryRun])).toEqual([
      ['a', 3, false],
      ['b', 0, false],
      ['c', 0, true],
    ])
    expect(streakLookback([gate('a', 6), gate('b', 30)])).toBe(60)
  })

  it('remembers each window once per provider, at most HISTORY_LIMIT', () => {
    const history = new Map<string, WindowSample[]>()
    const s = sample(1)
    rememberWindows(history, [
      { gate: thresholdGate('a'), verdict: verdict('a', 'PASS'), sample: s },
      { gate: thresholdGate('b'), verdict: verdict('b', 'PASS'), sample: s },
      { gate: thresholdGate('c'), verdict: verdict('c', 'INCONCLUSIVE'), sample: null },
    ])
    expect(history.get('builtin')).toEqual([s])
    for (let i = 0; i < HISTORY_LIMIT + 5; i++) rememberWindows(history, [{ gate: thresholdGate('a'), verdict: verdict('a', 'PASS'), sample: sample(i + 2) }])
    expect(history.get('builtin')).toHaveLength(HISTORY_LIMIT)
    expect(history.get('builtin')!.at(-1)!.end.getTime()).toBe(T0 + HISTORY_LIMIT + 6)
  })

  it('keeps no window for sequential gates: their runs hold what they need', () => {
    const history = new Map<string, WindowSample[]>()
    for (let i = 0; i < 10; i++) rememberWindows(history, [{ gate: gate('a'), verdict: verdict('a', 'PASS'), sample: sample(i + 1) }])
    expect(history.size).toBe(0)
    // A provider shared with a threshold gate keeps that gate's windows.
    const s = sample(20)
    rememberWindows(history, [
      { gate: gate('a'), verdict: verdict('a', 'PASS'), sample: s },
      { gate: thresholdGate('b'), verdict: verdict('b', 'PASS'), sample: s },
    ])
    expect(history.get('builtin')).toEqual([s])
  })

  const STEPS: MachineState['steps'] = [
    { kind: 'setWeight', spec: { setWeight: 20 } },
    { kind: 'analyze', spec: { analyze: {} } },
    { kind: 'pause', spec: { pause: {} } },
    { kind: 'setWeight', spec: { setWeight: 50 } },
  ]
  it.each([
    { status: 'ROLLING_BACK', stepIndex: 1, delay: 0, why: 'a rollback to finish' },
    { status: 'PROGRESSING', stepIndex: 0, delay: 0, why: 'a setWeight step (after START)' },
    { status: 'PROGRESSING', stepIndex: 3, delay: 0, why: 'a setWeight step (after an analysis or a pause)' },
    { status: 'PROGRESSING', stepIndex: 4, delay: 0, why: 'the promotion after the last step' },
    { status: 'PROGRESSING', stepIndex: 1, delay: 5000, why: 'an analysis needs telemetry' },
    { status: 'PROGRESSING', stepIndex: 2, delay: 5000, why: 'a pause needs the clock' },
    { status: 'PAUSED', stepIndex: 0, delay: 5000, why: 'a paused rollout waits for a person, even at a setWeight step' },
    { status: 'PENDING', stepIndex: 0, delay: 5000, why: 'a pending rollout starts on its next tick' },
    { status: 'SUCCEEDED', stepIndex: 4, delay: 5000, why: 'a finished rollout' },
  ] as const)('next tick after $delay ms: $why', ({ status, stepIndex, delay }) => {
    const state: MachineState = { status, stepIndex, stepStartedAt: 0, weight: 20, steps: STEPS, initial: false }
    expect(nextTickDelayMs(state, 5000)).toBe(delay)
  })
})
