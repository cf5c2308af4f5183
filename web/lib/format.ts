/**
 * Plain-words formatting for the dashboard: values by signal, durations, steps, statuses,
 * verdicts and a decision's evidence. Pure (no React, no clock): unit-tested in test/web.
 */
import type { RolloutStatus, StepKind, Verdict } from '../gql/graphql.ts'

export type SignalUnit = 'fraction' | 'seconds' | 'req/s'

const SIGNALS: Record<string, { label: string; unit: SignalUnit }> = {
  requestRate: { label: 'Request rate', unit: 'req/s' },
  errorRate: { label: 'Error rate', unit: 'fraction' },
  latencyP50: { label: 'Latency p50', unit: 'seconds' },
  latencyP95: { label: 'Latency p95', unit: 'seconds' },
  latencyP99: { label: 'Latency p99', unit: 'seconds' },
  traceErrorRate: { label: 'Trace error rate', unit: 'fraction' },
  spanDurationP95: { label: 'Span duration p95', unit: 'seconds' },
  logErrorRatio: { label: 'Log error ratio', unit: 'fraction' },
}

/** The order charts and tables show signals in; unknown ones follow, alphabetically. */
export const SIGNAL_ORDER: readonly string[] = Object.keys(SIGNALS)

export function signalLabel(signal: string): string {
  return SIGNALS[signal]?.label ?? signal
}

export function signalUnit(signal: string | null | undefined): SignalUnit | null {
  return signal ? (SIGNALS[signal]?.unit ?? null) : null
}

export function isUnit(value: unknown): value is SignalUnit {
  return value === 'fraction' || value === 'seconds' || value === 'req/s'
}

function trim(n: number, digits: number): string {
  return n.toFixed(digits).replace(/\.0+$/, '').replace(/(\.\d*?)0+$/, '$1')
}

/** A number in the signal's unit, for people: 0.083 fraction → "8.3 %", 0.19 s → "190 ms". */
export function formatValue(value: number | null | undefined, unit: SignalUnit | null): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'no data'
  switch (unit) {
    case 'fraction': {
      const percent = value * 100
      return `${trim(percent, Math.abs(percent) < 10 ? 2 : 1)} %`
    }
    case 'seconds': {
      const ms = value * 1000
      if (Math.abs(ms) >= 1000) return `${trim(value, 2)} s`
      return `${trim(ms, Math.abs(ms) < 10 ? 2 : Math.abs(ms) < 100 ? 1 : 0)} ms`
    }
    case 'req/s':
      return `${trim(value, value < 10 ? 2 : 1)} req/s`
    default:
      return trim(value, Math.abs(value) < 1 ? 4 : 2)
  }
}

export function formatSignal(signal: string, value: number | null | undefined): string {
  return formatValue(value, signalUnit(signal))
}

/** A duration in milliseconds: "850 ms", "15 s", "2 m 05 s", "1 h 02 m". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  const seconds = Math.floor(ms / 1000)
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} m ${String(seconds % 60).padStart(2, '0')} s`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, '0')} m`
  return `${Math.floor(hours / 24)} d ${hours % 24} h`
}

/** How long ago `at` was, relative to `now` (both ms or ISO strings): "12 s ago", "just now". */
export function formatAgo(at: string | number | null | undefined, now: number): string {
  if (at === null || at === undefined) return '—'
  const t = typeof at === 'number' ? at : Date.parse(at)
  if (!Number.isFinite(t)) return '—'
  const ms = now - t
  if (ms < 1500) return 'just now'
  return `${formatDuration(ms).replace(/ \d+ (s|m)$/, '')} ago`
}

/** A wall-clock time for a timeline: "14:03:07" today, else "Mar 3 14:03". Uses the browser's time zone. */
export function formatClock(at: string, now: number = Date.now()): string {
  const date = new Date(at)
  if (Number.isNaN(date.getTime())) return at
  const sameDay = new Date(now).toDateString() === date.toDateString()
  const time = date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })
  if (sameDay) return time
  return `${date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${time.slice(0, 5)}`
}

export const ROLLOUT_STATUSES = [
  'PENDING',
  'PROGRESSING',
  'PAUSED',
  'ROLLING_BACK',
  'SUCCEEDED',
  'ROLLED_BACK',
  'ABORTED',
  'FAILED',
] as const satisfies readonly RolloutStatus[]

// Fails to compile when the schema gains a status this list lacks.
type MissingStatus = Exclude<RolloutStatus, (typeof ROLLOUT_STATUSES)[number]>
const everyStatusListed: [MissingStatus] extends [never] ? true : false = true
void everyStatusListed

export const ACTIVE_STATUSES: readonly RolloutStatus[] = ['PENDING', 'PROGRESSING', 'PAUSED', 'ROLLING_BACK']

export function isActive(status: RolloutStatus): boolean {
  return ACTIVE_STATUSES.includes(status)
}

export function isRolloutStatus(value: string): value is RolloutStatus {
  return (ROLLOUT_STATUSES as readonly string[]).includes(value)
}

/** "ROLLED_BACK" → "Rolled back". */
export function statusLabel(status: string): string {
  const words = status.toLowerCase().replace(/_/g, ' ')
  return words.charAt(0).toUpperCase() + words.slice(1)
}

export type Tone = 'good' | 'bad' | 'warn' | 'live' | 'neutral'

export function statusTone(status: RolloutStatus): Tone {
  switch (status) {
    case 'SUCCEEDED':
      return 'good'
    case 'ROLLED_BACK':
    case 'ROLLING_BACK':
    case 'FAILED':
    case 'ABORTED':
      return 'bad'
    case 'PAUSED':
      return 'warn'
    case 'PROGRESSING':
    case 'PENDING':
      return 'live'
  }
}

export function verdictTone(verdict: Verdict | null | undefined): Tone {
  if (verdict === 'PASS') return 'good'
  if (verdict === 'FAIL') return 'bad'
  if (verdict === 'INCONCLUSIVE') return 'warn'
  return 'neutral'
}

export function verdictLabel(verdict: Verdict | null | undefined): string {
  if (verdict === 'PASS') return 'Pass'
  if (verdict === 'FAIL') return 'Fail'
  if (verdict === 'INCONCLUSIVE') return 'Inconclusive'
  return 'Not judged yet'
}

/** A decision's action in the timeline: "SET_WEIGHT" → "Set weight"; tone by what it means. */
export function actionTone(action: string): Tone {
  if (action === 'ROLLBACK' || action === 'ROLLED_BACK' || action === 'ABORT' || action.startsWith('REJECT')) return 'bad'
  if (action === 'PROMOTE' || action === 'INITIAL_DEPLOY' || action === 'ADVANCE') return 'good'
  if (action === 'PAUSE') return 'warn'
  return 'live'
}

export interface StepLike {
  kind: StepKind
  setWeight?: number | null
  analyzeMin?: string | null
  analyzeMax?: string | null
  pauseDuration?: string | null
}

/** A step in plain words: "Set weight to 10 %", "Analyse for 15s (up to 2m)", "Pause until someone resumes". */
export function stepLabel(step: StepLike): string {
  switch (step.kind) {
    case 'SET_WEIGHT':
      return `Set weight to ${step.setWeight ?? '?'} %`
    case 'ANALYZE':
      if (step.analyzeMin && step.analyzeMax) return `Analyse for ${step.analyzeMin} (up to ${step.analyzeMax})`
      if (step.analyzeMin) return `Analyse for ${step.analyzeMin}`
      if (step.analyzeMax) return `Analyse (up to ${step.analyzeMax})`
      return 'Analyse'
    case 'PAUSE':
      return step.pauseDuration ? `Pause for ${step.pauseDuration}` : 'Pause until someone resumes'
  }
}

/** What a running step is waiting for, in plain words. */
export function stepWaitsFor(step: StepLike, status: RolloutStatus): string {
  if (status === 'PAUSED') return 'paused: waits for someone to resume or promote'
  if (status === 'PENDING') return 'waits for the canary to start'
  if (status === 'ROLLING_BACK') return 'waits for the canary to be removed'
  switch (step.kind) {
    case 'SET_WEIGHT':
      return `moving ${step.setWeight ?? '?'} % of traffic to the canary`
    case 'ANALYZE':
      return `collecting evidence: every gate must pass${step.analyzeMin ? ` after ${step.analyzeMin}` : ''}`
    case 'PAUSE':
      return step.pauseDuration ? `waits ${step.pauseDuration}, then advances` : 'waits for someone to resume or promote'
  }
}

/** A judge spec (the gate's `judge` JSON) in plain words, in the signal's unit. */
export function describeJudge(judge: unknown, unit: SignalUnit | null): string {
  if (!isRecord(judge)) return '—'
  const kind = typeof judge.kind === 'string' ? judge.kind : 'unknown'
  const parts: string[] = []
  const num = (key: string): number | null => (typeof judge[key] === 'number' ? (judge[key] as number) : null)
  if (kind === 'threshold') {
    const min = num('min')
    const max = num('max')
    if (max !== null) parts.push(`at most ${formatValue(max, unit)}`)
    if (min !== null) parts.push(`at least ${formatValue(min, unit)}`)
  } else if (kind === 'relative') {
    const inc = num('maxIncrease')
    const ratio = num('maxRatio')
    if (inc !== null) parts.push(`at most ${formatValue(inc, unit === 'fraction' ? 'fraction' : unit).replace(' %', ' pp')} over baseline`)
    if (ratio !== null) parts.push(`at most ${trim(ratio, 2)}× baseline`)
  } else if (kind === 'sequential') {
    const alpha = num('alpha')
    parts.push(`sequential test${alpha !== null ? ` (α ${alpha})` : ''}`)
  } else if (kind === 'mannWhitney') {
    parts.push(...describeMannWhitney(judge, num))
  } else if (kind === 'anomaly') {
    parts.push(...describeAnomaly(judge, num))
  }
  return parts.length > 0 ? `${kind}: ${parts.join(', ')}` : kind
}

/** Kayenta's words: the direction that fails, the allowed mean ratio, the confidence. */
function describeMannWhitney(judge: Record<string, unknown>, num: (key: string) => number | null): string[] {
  const parts: string[] = []
  const direction = judge.direction === 'decrease' ? 'lower' : judge.direction === 'either' ? 'higher or lower' : 'higher'
  const up = num('allowedIncrease')
  const down = num('allowedDecrease')
  const allowed: string[] = []
  if (judge.direction !== 'decrease' && up !== null) allowed.push(`up to ${trim(up, 2)}× baseline`)
  if (judge.direction !== 'increase' && judge.direction !== undefined && down !== null) allowed.push(`down to ${trim(down, 2)}× baseline`)
  parts.push(`fails when ${direction}${allowed.length > 0 ? ` (allowed ${allowed.join(', ')})` : ''}`)
  const confidence = num('confidence')
  if (confidence !== null) parts.push(`${trim(confidence * 100, 1)} % confidence`)
  if (judge.critical === true) parts.push('critical')
  return parts
}

/** The detector's subject, direction and false-alarm rate. */
function describeAnomaly(judge: Record<string, unknown>, num: (key: string) => number | null): string[] {
  const subject = judge.subject === 'baseline' ? 'the stable version' : 'the canary'
  const direction = judge.direction === 'decrease' ? 'drops' : judge.direction === 'either' ? 'jumps or drops' : 'jumps'
  const parts = [`${subject} ${direction} against its own ${typeof judge.window === 'string' ? judge.window : 'recent'} history`]
  const rate = num('falseAlarmRate')
  if (rate !== null) parts.push(`false alarms ${trim(rate * 100, 3)} %`)
  if (typeof judge.season === 'string') parts.push(`season ${judge.season}`)
  return parts
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null)
const numOrNull = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null)

export interface GateEvidenceView {
  gate: string
  verdict: Verdict | null
  dryRun: boolean
  value: number | null
  baseline: number | null
  unit: SignalUnit | null
  reason: string
  canaryRequests: number | null
  baselineRequests: number | null
}

export interface DecisionEvidenceView {
  step: string | null
  elapsedMs: number | null
  gates: GateEvidenceView[]
  command: { kind: string; full: boolean; actor: string; reason: string | null } | null
  canaryFailure: string | null
}

function verdictOrNull(value: unknown): Verdict | null {
  return value === 'PASS' || value === 'FAIL' || value === 'INCONCLUSIVE' ? value : null
}

/** A decision's evidence JSON, read defensively (stored JSON is a contract, not a type). */
export function readDecisionEvidence(evidence: unknown): DecisionEvidenceView {
  const e = isRecord(evidence) ? evidence : {}
  const gates = Array.isArray(e.gates) ? e.gates.filter(isRecord) : []
  const command = isRecord(e.command) ? e.command : null
  const failure = isRecord(e.canaryFailure) ? e.canaryFailure : null
  return {
    step: str(e.step),
    elapsedMs: numOrNull(e.elapsedMs),
    gates: gates.map((g) => {
      const inner = isRecord(g.evidence) ? g.evidence : {}
      const unit = isUnit(inner.unit) ? inner.unit : signalUnit(str(inner.signal))
      return {
        gate: str(g.gate) ?? '?',
        verdict: verdictOrNull(g.verdict),
        dryRun: g.dryRun === true,
        value: numOrNull(g.value),
        baseline: numOrNull(g.baseline),
        unit,
        reason: str(g.reason) ?? '',
        canaryRequests: numOrNull(inner.canaryRequests),
        baselineRequests: numOrNull(inner.baselineRequests),
      }
    }),
    command: command
      ? { kind: str(command.kind) ?? '?', full: command.full === true, actor: str(command.actor) ?? '?', reason: str(command.reason) }
      : null,
    canaryFailure: failure ? (str(failure.reason) ?? 'the canary failed') : null,
  }
}

/** A gate result's evidence JSON: the unit and the baseline the verdict compared against. */
export function readGateResultEvidence(evidence: unknown): { unit: SignalUnit | null; baseline: number | null; canaryRequests: number | null } {
  const e = isRecord(evidence) ? evidence : {}
  return {
    unit: isUnit(e.unit) ? e.unit : signalUnit(str(e.signal)),
    baseline: numOrNull(e.baseline),
    canaryRequests: numOrNull(e.canaryRequests),
  }
}

/** "v2 → v3", or "v1 (first deploy)" when there was no stable version. */
export function versionsLabel(fromVersion: string | null | undefined, toVersion: string): string {
  return fromVersion ? `${fromVersion} → ${toVersion}` : `${toVersion} (first deploy)`
}
