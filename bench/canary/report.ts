/**
 * Turns the runs into the numbers the issue asks for, per rule and scenario, and checks
 * the issue's targets. Quantiles are nearest-rank over ALL runs of a scenario, with a run
 * that never rolled back (or never promoted) counted as infinitely slow: a median is
 * reported only when more than half the runs got there (else null, "missed").
 */
import type { SprtBound } from './sprt.ts'
import type { Scenario } from './scenarios.ts'
import type { TrialResult } from './trial.ts'

export interface Quantiles {
  median: number | null
  p90: number | null
}

export interface RuleScenarioStats {
  scenario: string
  rule: string
  expected: 'promote' | 'rollback'
  runs: number
  outcomes: { rollback: number; promote: number; pause: number; undecided: number }
  /** Expected rollback: seconds from the onset to the rollback. */
  detectionSeconds?: Quantiles
  /** Expected rollback: runs that did not roll back after the onset (promoted, paused or still undecided at the end). */
  missed?: number
  /** Expected rollback: runs that rolled back before the onset (a false rollback of a still-healthy canary). */
  rolledBackBeforeOnset?: number
  /** Expected rollback: canary requests after the onset that failed or were slowed by the fault, until the rollback (or the end). */
  badRequests?: Quantiles & { mean: number }
  /** Expected promote: rollbacks of a healthy canary. */
  falseRollbacks?: { count: number; rate: number }
  /** Expected promote: seconds from the start to the promotion. */
  promoteSeconds?: Quantiles
}

/** Nearest-rank quantile of values where Infinity means "never"; null when it lands on never. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)))
  const value = sorted[rank - 1]!
  return Number.isFinite(value) ? value : null
}

function quantiles(values: readonly number[]): Quantiles {
  return { median: quantile(values, 0.5), p90: quantile(values, 0.9) }
}

/** Statistics of one rule over every run of one scenario. */
export function ruleStats(scenario: Scenario, rule: string, results: readonly TrialResult[]): RuleScenarioStats {
  const outcomes = { rollback: 0, promote: 0, pause: 0, undecided: 0 }
  for (const r of results) {
    if (r.outcome === null) outcomes.undecided++
    else outcomes[r.outcome.kind]++
  }
  const stats: RuleScenarioStats = { scenario: scenario.name, rule, expected: scenario.expected, runs: results.length, outcomes }
  if (scenario.expected === 'rollback') {
    const onset = scenario.fault?.onsetSeconds ?? 0
    const times = results.map((r) => (r.outcome?.kind === 'rollback' && r.outcome.at >= onset ? r.outcome.at - onset : Infinity))
    const bad = results.map((r) => r.tally.badRequests)
    stats.detectionSeconds = quantiles(times)
    stats.missed = times.filter((t) => !Number.isFinite(t)).length - results.filter((r) => r.outcome?.kind === 'rollback' && r.outcome.at < onset).length
    stats.rolledBackBeforeOnset = results.filter((r) => r.outcome?.kind === 'rollback' && r.outcome.at < onset).length
    stats.badRequests = { ...quantiles(bad), mean: bad.length === 0 ? 0 : round(bad.reduce((a, b) => a + b, 0) / bad.length) }
  } else {
    const count = outcomes.rollback
    stats.falseRollbacks = { count, rate: results.length === 0 ? 0 : count / results.length }
    stats.promoteSeconds = quantiles(results.map((r) => (r.outcome?.kind === 'promote' ? r.outcome.at : Infinity)))
  }
  return stats
}

function round(x: number): number {
  return Math.round(x * 10) / 10
}

// ---------------------------------------------------------------------------------------
// Targets

export interface TargetCheck {
  target: string
  /** true / false, or null when this run cannot tell (too few runs, a rule not available). */
  met: boolean | null
  detail: string
}

export interface TargetInput {
  scenarios: readonly Scenario[]
  stats: readonly RuleScenarioStats[]
  sprt: ReadonlyMap<string, SprtBound>
  /** Seconds the fixed 5-15-30-50-100 % plan with 1-minute steps takes to reach 100 %. */
  fixedPlanSeconds: number
}

function find(stats: readonly RuleScenarioStats[], rule: string, scenario: string): RuleScenarioStats | undefined {
  return stats.find((s) => s.rule === rule && s.scenario === scenario)
}

const fmt = (x: number | null): string => (x === null ? 'never (more than half missed)' : `${round(x)} s`)

/** The issue's five targets, as measured by this run, for the `sentra` rule. */
export function checkTargets({ scenarios, stats, sprt, fixedPlanSeconds }: TargetInput): TargetCheck[] {
  const checks: TargetCheck[] = []
  const healthy = scenarios.filter((s) => s.expected === 'promote')
  const regressions = scenarios.filter((s) => s.expected === 'rollback')

  const healthyStats = healthy.map((s) => find(stats, 'sentra', s.name)).filter((s) => s !== undefined)
  const runs = healthyStats.reduce((sum, s) => sum + s.runs, 0)
  const falses = healthyStats.reduce((sum, s) => sum + (s.falseRollbacks?.count ?? 0), 0)
  const rate = runs === 0 ? 0 : falses / runs
  checks.push({
    target: 'false rollbacks ≤ 1 % over ≥ 500 healthy runs',
    met: runs < 500 ? (rate > 0.01 ? false : null) : rate <= 0.01,
    detail: `${falses} of ${runs} healthy runs rolled back (${(rate * 100).toFixed(2)} %)${runs < 500 ? `; only ${runs} runs: use more --runs to judge` : ''}`,
  })

  const ratios: string[] = []
  let within = true
  for (const s of regressions) {
    const bound = sprt.get(s.name)?.seconds ?? null
    const median = find(stats, 'sentra', s.name)?.detectionSeconds?.median ?? null
    if (bound === null) continue
    const ratio = median === null ? Infinity : median / Math.max(bound, 1e-9)
    if (!(ratio <= 1.5)) within = false
    ratios.push(`${s.name} ${median === null ? 'missed' : `${round(median)} s`} vs ${round(bound)} s (${Number.isFinite(ratio) ? `×${ratio.toFixed(1)}` : '×∞'})`)
  }
  checks.push({ target: 'median detection within 1.5× the SPRT bound', met: ratios.length === 0 ? null : within, detail: ratios.join('; ') })

  const spikes = regressions.filter((s) => s.fault?.shape === 'step' && (s.fault.errorMultiplier ?? 1) >= 5 && s.fault.endpoint === undefined && s.fault.latencyMultiplier === undefined)
  const speedups: string[] = []
  let faster = spikes.length > 0
  for (const s of spikes) {
    const ours = find(stats, 'sentra', s.name)?.detectionSeconds?.median ?? null
    const theirs = find(stats, 'flagger', s.name)?.detectionSeconds?.median ?? null
    const speedup = ours === null ? 0 : theirs === null ? Infinity : theirs / Math.max(ours, 1e-9)
    if (!(speedup >= 10)) faster = false
    speedups.push(`${s.name} ${fmt(ours)} vs Flagger ${fmt(theirs)} (${Number.isFinite(speedup) ? `×${speedup.toFixed(1)}` : '×∞'})`)
  }
  checks.push({ target: '≥ 10× faster than the Flagger rule on error spikes of ×5 and more', met: spikes.length === 0 ? null : faster, detail: speedups.join('; ') })

  const clear = regressions.filter((s) => s.fault !== null && s.fault.endpoint === undefined && ((s.fault.errorMultiplier ?? 1) >= 2 || (s.fault.latencyMultiplier ?? 1) >= 1.25))
  const misses = clear.map((s) => ({ s, stat: find(stats, 'sentra', s.name) })).filter(({ stat }) => stat !== undefined)
  const missed = misses.filter(({ stat }) => (stat!.missed ?? 0) > 0)
  checks.push({
    target: 'no missed regression at ≥ ×2 error rate or ≥ +25 % p95',
    met: misses.length === 0 ? null : missed.length === 0,
    detail: misses.length === 0 ? 'no such scenario in this run' : missed.length === 0 ? `none missed in ${misses.map(({ s }) => s.name).join(', ')}` : missed.map(({ s, stat }) => `${s.name}: ${stat!.missed} of ${stat!.runs} missed`).join('; '),
  })

  const promotes = healthy.map((s) => ({ s, median: find(stats, 'sentra', s.name)?.promoteSeconds?.median ?? null }))
  const limit = fixedPlanSeconds / 3
  const slow = promotes.filter(({ median }) => median === null || median > limit)
  checks.push({
    target: `healthy canaries promoted ≥ 3× faster than the fixed 5-15-30-50-100 % plan with 1-minute steps (${fixedPlanSeconds} s, so ≤ ${round(limit)} s)`,
    met: promotes.length === 0 ? null : slow.length === 0,
    detail: promotes.map(({ s, median }) => `${s.name} ${fmt(median)}`).join('; '),
  })
  return checks
}

// ---------------------------------------------------------------------------------------
// Markdown

function seconds(x: number | null): string {
  if (x === null) return '—'
  return x >= 100 ? `${Math.round(x)}` : `${round(x)}`
}

/** The results as Markdown tables (regressions, healthy canaries, targets). */
export function markdownReport(input: TargetInput & { rules: readonly { name: string; unavailable: string | null }[]; command: string; runs: number; seed: number }): string {
  const { scenarios, stats, sprt, rules } = input
  const live = rules.filter((r) => r.unavailable === null)
  const lines: string[] = []
  lines.push(`Command: \`${input.command}\` (${input.runs} runs per scenario, seed ${input.seed}).`, '')
  for (const r of rules.filter((r) => r.unavailable !== null)) lines.push(`- ${r.name}: not available (${r.unavailable})`)
  if (rules.some((r) => r.unavailable !== null)) lines.push('')

  lines.push('Regressions: seconds from the onset to the rollback, median / p90 (runs that never rolled back: missed, of which paused for a person; median bad requests served before the rollback or the end).', '')
  lines.push(`| scenario | SPRT bound | ${live.map((r) => r.name).join(' | ')} |`)
  lines.push(`|---|---|${live.map(() => '---|').join('')}`)
  for (const s of scenarios.filter((s) => s.expected === 'rollback')) {
    const bound = sprt.get(s.name)
    const cells = live.map((r) => {
      const st = find(stats, r.name, s.name)
      if (!st) return '—'
      const times = `${seconds(st.detectionSeconds?.median ?? null)} / ${seconds(st.detectionSeconds?.p90 ?? null)}`
      const paused = st.outcomes.pause > 0 ? `, ${st.outcomes.pause} paused` : ''
      const missed = (st.missed ?? 0) > 0 ? `, ${st.missed}/${st.runs} missed${paused === '' ? '' : ` (${paused.slice(2)})`}` : ''
      const early = (st.rolledBackBeforeOnset ?? 0) > 0 ? `, ${st.rolledBackBeforeOnset} before onset` : ''
      return `${times}${missed}${early}; ${seconds(st.badRequests?.median ?? null)} bad`
    })
    const b = bound?.seconds == null ? '—' : `${seconds(bound.seconds)} s (${Math.ceil(bound.requests ?? 0)} req)`
    lines.push(`| ${s.name} | ${b} | ${cells.join(' | ')} |`)
  }
  lines.push('')
  lines.push('Healthy canaries: seconds from the start to the promotion, median / p90; false rollbacks; runs paused for a person (Sentra: analysis `max` reached, or too long without data).', '')
  lines.push(`| scenario | ${live.map((r) => r.name).join(' | ')} |`)
  lines.push(`|---|${live.map(() => '---|').join('')}`)
  for (const s of scenarios.filter((s) => s.expected === 'promote')) {
    const cells = live.map((r) => {
      const st = find(stats, r.name, s.name)
      if (!st) return '—'
      const paused = st.outcomes.pause > 0 ? `, ${st.outcomes.pause} paused` : ''
      const undecided = st.outcomes.undecided > 0 ? `, ${st.outcomes.undecided} undecided` : ''
      return `${seconds(st.promoteSeconds?.median ?? null)} / ${seconds(st.promoteSeconds?.p90 ?? null)}; ${st.falseRollbacks?.count ?? 0}/${st.runs} false rollbacks${paused}${undecided}`
    })
    lines.push(`| ${s.name} | ${cells.join(' | ')} |`)
  }
  lines.push('')
  lines.push('Targets (Sentra):', '')
  lines.push('| target | met | measured |', '|---|---|---|')
  for (const t of checkTargets(input)) lines.push(`| ${t.target} | ${t.met === null ? 'cannot tell' : t.met ? 'yes' : 'no'} | ${t.detail} |`)
  return `${lines.join('\n')}\n`
}
