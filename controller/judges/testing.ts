/** Test helpers: windows and gates for judge tables (used by tests only). */
import type { GateSpec, JudgeSpec } from '../../schema/spec.ts'
import type { BuiltinSignal } from '../../schema/spec/signals.ts'
import type { VersionWindow, WindowSample } from '../telemetry/provider.ts'

export const START = new Date('2025-01-01T12:00:00.000Z')
export const END = new Date('2025-01-01T12:00:20.000Z')
export const DEFAULT_REQUESTS = 1_000_000_000

export interface WindowInput {
  canary?: number | null
  baseline?: number | null
  canaryRequests?: number | null
  baselineRequests?: number | null
  key?: string
  seconds?: number
}

function version(name: string, key: string, value: number | null | undefined, requests: number | null): VersionWindow {
  const values: Record<string, number | null> = {}
  if (value !== undefined) values[key] = value
  // Errors agree with an error-rate value, so the judges' significance check sees real counts.
  const rate = key === 'errorRate' && typeof value === 'number' && Number.isFinite(value) ? value : 0.01
  return { version: name, requests, errors: requests === null ? null : Math.round(requests * rate), values }
}

/**
 * One 20 s window (by default) with a very large number of requests on each side, so that a
 * table row tests the comparison itself; rows about traffic or noise set their own counts.
 */
export function windowOf(input: WindowInput, key = input.key ?? 'errorRate'): WindowSample {
  const end = input.seconds === undefined ? END : new Date(START.getTime() + input.seconds * 1000)
  return {
    provider: 'builtin',
    start: START,
    end,
    canaryWeight: 5,
    canary: version('v2', key, input.canary, input.canaryRequests === undefined ? DEFAULT_REQUESTS : input.canaryRequests),
    baseline: version('v1', key, input.baseline, input.baselineRequests === undefined ? DEFAULT_REQUESTS : input.baselineRequests),
  }
}

export function signalGate(signal: BuiltinSignal, judge: JudgeSpec, dryRun = false): GateSpec {
  return { name: 'g', signal, judge, dryRun, inconclusiveLimit: 6 }
}

export function queryGate(name: string, judge: JudgeSpec): GateSpec {
  return { name, provider: 'prometheus', query: 'up{version="{{version}}"}', judge, dryRun: false, inconclusiveLimit: 6 }
}
