/**
 * The canary benchmark (`npm run bench -- canary [--scenarios DIR] [--runs N] [--seed S]`):
 * how fast each rule rolls back a bad canary and promotes a good one, on the same seeded,
 * simulated telemetry. See bench/canary/README.md and docs/benchmarks.md.
 *
 * Prints the JSON summary (run.ts writes it to stdout); progress goes to stderr; the
 * Markdown table and the SVG chart are written to --out (with the JSON).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { type CanaryOptions, USAGE, UsageError, parseCanaryArgs } from './cli.ts'
import { randomStream, streamSeed } from './random.ts'
import { type RuleScenarioStats, checkTargets, markdownReport, ruleStats } from './report.ts'
import { argoRule } from './rules/argo.ts'
import { FLAGGER, flaggerRule } from './rules/flagger.ts'
import { kayentaRule } from './rules/kayenta.ts'
import { sentraRule } from './rules/sentra.ts'
import type { Rule } from './rules/types.ts'
import { ScenarioError, type Scenario, loadScenarios } from './scenarios.ts'
import { type SprtBound, sprtBound } from './sprt.ts'
import { svgChart } from './svg.ts'
import { type TrialResult, runTrial } from './trial.ts'

/** The fixed 5-15-30-50-100 % plan with 1-minute steps reaches 100 % after four minutes. */
const FIXED_PLAN_SECONDS = (FLAGGER.stepWeights.length) * 60

function rulesFor(scenario: Scenario, names: readonly string[]): Rule[] {
  const all: Record<string, () => Rule> = {
    sentra: () => sentraRule(scenario.tickSeconds),
    flagger: flaggerRule,
    argo: argoRule,
    kayenta: kayentaRule,
  }
  return names.map((n) => all[n]!())
}

/** The canary weight of Sentra's first step: the SPRT bound is computed at that traffic. */
function firstWeight(scenario: Scenario): number {
  const steps = sentraRule(scenario.tickSeconds).plan.spec.strategy.canary?.steps ?? []
  for (const s of steps) if ('setWeight' in s && s.setWeight > 0) return s.setWeight
  return 100
}

export interface CanarySummary {
  benchmark: 'canary'
  command: string
  seed: number
  runs: number
  scenarios: string[]
  rules: { name: string; description: string; available: boolean; unavailable: string | null }[]
  sprt: Record<string, SprtBound>
  fixedPlanSeconds: number
  results: RuleScenarioStats[]
  targets: ReturnType<typeof checkTargets>
  files: { json: string; markdown: string; svg: string }
  elapsedSeconds: number
}

export async function runCanary(options: CanaryOptions, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<CanarySummary> {
  const started = performance.now()
  let scenarios = await loadScenarios(options.scenarios)
  if (options.only !== null) {
    const unknown = options.only.filter((n) => !scenarios.some((s) => s.name === n))
    if (unknown.length > 0) throw new UsageError(`no scenario named ${unknown.join(', ')} in ${options.scenarios}; there are ${scenarios.map((s) => s.name).join(', ')}`)
    scenarios = scenarios.filter((s) => options.only!.includes(s.name))
  }
  const probe = rulesFor(scenarios[0]!, options.rules)
  const stats: RuleScenarioStats[] = []
  const sprt = new Map<string, SprtBound>()
  for (const scenario of scenarios) {
    const rules = rulesFor(scenario, options.rules).filter((r) => r.unavailable === null)
    sprt.set(scenario.name, sprtBound(scenario, { canaryWeight: firstWeight(scenario) }))
    const perRule = new Map<string, TrialResult[]>(rules.map((r) => [r.name, []]))
    const t0 = performance.now()
    for (let run = 0; run < options.runs; run++) {
      const results = await runTrial(scenario, rules, randomStream(streamSeed(options.seed, scenario.name, run)))
      for (const r of results) perRule.get(r.rule)!.push(r)
    }
    for (const rule of rules) stats.push(ruleStats(scenario, rule.name, perRule.get(rule.name)!))
    log(`canary: ${scenario.name}: ${options.runs} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  }

  const command = `npm run bench -- canary ${['--runs', String(options.runs), '--seed', String(options.seed), ...(options.only ? ['--only', options.only.join(',')] : []), ...(options.rules.length < 4 ? ['--rules', options.rules.join(',')] : [])].join(' ')}`
  const input = { scenarios, stats, sprt, fixedPlanSeconds: FIXED_PLAN_SECONDS }
  const targets = checkTargets(input)
  await mkdir(options.out, { recursive: true })
  const files = { json: join(options.out, 'results.json'), markdown: join(options.out, 'results.md'), svg: join(options.out, 'results.svg') }
  const summary: CanarySummary = {
    benchmark: 'canary',
    command,
    seed: options.seed,
    runs: options.runs,
    scenarios: scenarios.map((s) => s.name),
    rules: probe.map((r) => ({ name: r.name, description: r.description, available: r.unavailable === null, unavailable: r.unavailable })),
    sprt: Object.fromEntries(sprt),
    fixedPlanSeconds: FIXED_PLAN_SECONDS,
    results: stats,
    targets,
    files,
    elapsedSeconds: Math.round((performance.now() - started) / 100) / 10,
  }
  const markdown = markdownReport({ ...input, rules: probe, command, runs: options.runs, seed: options.seed })
  const live = probe.filter((r) => r.unavailable === null).map((r) => r.name)
  await writeFile(files.json, `${JSON.stringify(summary, null, 2)}\n`)
  await writeFile(files.markdown, markdown)
  await writeFile(files.svg, svgChart(scenarios, live, stats, sprt))
  log(`canary: wrote ${[files.json, files.markdown, files.svg].map((f) => relative(process.cwd(), f) || f).join(', ')}`)
  return summary
}

/** bench/run.ts's entry point: the flags are the arguments after the benchmark's name. */
export async function run(): Promise<object> {
  let options: CanaryOptions
  try {
    options = parseCanaryArgs(process.argv.slice(3))
  } catch (error) {
    if (error instanceof UsageError) exitWith(error.message)
    throw error
  }
  if (options.help) {
    process.stderr.write(`${USAGE}\n`)
    process.exit(0)
  }
  try {
    return await runCanary(options)
  } catch (error) {
    if (error instanceof UsageError || error instanceof ScenarioError) exitWith(error.message)
    throw error
  }
}

function exitWith(message: string): never {
  process.stderr.write(`canary: ${message}\n${USAGE}\n`)
  process.exit(2)
}
