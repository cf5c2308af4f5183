import type { Bus } from '../schema/events/bus.ts'
import type { AppSpec } from '../schema/spec.ts'
import type { Store } from '../schema/store/index.ts'
import { FencedError } from '../schema/store/leases.ts'
import type { Json, OperatorCommand, Rollout, RolloutStep } from '../schema/store/models.ts'
import { evaluateGates, type GateEvaluation } from './evaluate.ts'
import { JudgeRuns } from './judge-runs.ts'
import { evidenceKeys, linkEvidence } from './evidence-links.ts'
import type { ControllerMetrics } from './metrics.ts'
import { decide, isFinished } from './rollout.ts'
import type { Decision, GateInput, MachineState } from './rollout/types.ts'
import { gateInputs, inconclusiveStreaks, nextTickDelayMs, rememberWindows, streakLookback, type StreakRecord } from './tick/gates.ts'
import { ProxyListenError } from './proxy/registry.ts'
import { SpecCache } from './spec-cache.ts'
import { fencedTarget, reuseRecentCheck } from './targets/fenced.ts'
import { type RolloutRef, type Target, TargetStoppingError } from './targets/target.ts'
import type { TelemetryProvider, WindowSample } from './telemetry/provider.ts'
import { annotateTick, traceDecision } from './tracing.ts'

/** Validated specs, shared by every tick of this process (controller/spec-cache.ts). */
const specs = new SpecCache()

export interface TickContext {
  store: Store
  bus: Bus
  holder: string
  /** The target for a spec's target kind; undefined when this controller has none. */
  targets: (kind: AppSpec['target']['kind']) => Target | undefined
  /** The providers to ask now (declared providers may change while the controller runs). */
  providers: () => ReadonlyMap<string, TelemetryProvider>
  clock?: () => number
  log?: (line: string) => void
  /** Sentra's own metrics of the analysis (controller/metrics.ts); none recorded when unset. */
  metrics?: ControllerMetrics
  /**
   * This holder's fencing token for the rollout (LeaseRepository.takeFence): checked by the
   * store in the tick's transaction and before every target call. Unset: no fencing.
   */
  fence?: { name: string; token: number }
  /**
   * How the tick commits its writes: the controller's group commit (schema/store/group-commit.ts,
   * several rollouts' ticks in one transaction) or, when unset, a transaction of its own.
   */
  transaction?: <T>(fn: (tx: Store) => Promise<T>) => Promise<T>
}

/** What a controller keeps between ticks of one rollout (lost on restart; nothing depends on it). */
export interface TickMemory {
  /** Recent windows per provider, oldest first, for judges that look at history. */
  history: Map<string, WindowSample[]>
  /** The sequential gates' running analyses (controller/judge-runs.ts), fed each tick's increment. */
  runs?: JudgeRuns
  /** The rollout as the last tick saw it: what the loop tells the target to let go of when the lease is lost. */
  ref?: RolloutRef
  /** The rollout's steps (kind and spec: fixed at its start), read by the first tick of this holder. */
  steps?: readonly RolloutStep[]
  /**
   * The rollout's latest gate results, for the inconclusive streaks: read from the store once
   * per holder (and again when the spec's lookback changes), then kept up to date with what
   * this holder writes (nobody else writes them while it holds the lease).
   */
  recent?: { lookback: number; results: StreakRecord[] }
}

export interface TickResult {
  finished: boolean
  nextTickMs: number
}

/** What the streaks read of a gate result, without the rest of its evidence (a holder keeps up to gates × inconclusiveLimit of them). */
function streakRecord({ gate, stepIndex, at, verdict, evidence }: StreakRecord): StreakRecord {
  return { gate, stepIndex, at, verdict, evidence: evidence.state === undefined ? {} : { state: evidence.state } }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** `adaptive` is read from the application's current spec (the steps themselves are snapshotted). */
function machineState(rollout: Rollout, steps: readonly RolloutStep[], spec: AppSpec): MachineState {
  return {
    status: rollout.status,
    stepIndex: rollout.currentStepIndex,
    stepStartedAt: rollout.stepStartedAt?.getTime() ?? null,
    weight: rollout.desiredWeight,
    steps: steps.map((s) => ({ kind: s.kind, spec: s.spec })),
    initial: rollout.fromVersion === null,
    adaptive: spec.strategy.canary?.adaptive ?? null,
  }
}

/**
 * This controller cannot serve the application's address: another process on this host
 * holds it (for the process target, usually another controller that still serves the
 * application). The loop hands the rollout back so that one can take it (docs/ha.md).
 */
export class CannotServeError extends Error {
  override readonly name = 'CannotServeError'
}

/**
 * Not the canary's fault: this holder lost the rollout, cannot serve the application's
 * address (another controller on this host still holds it), or is stopping. The tick stops
 * without deciding; treating any of them as a failed canary would roll back a good version.
 */
function notTheCanary(error: unknown): boolean {
  return error instanceof FencedError || error instanceof ProxyListenError || error instanceof TargetStoppingError
}

/**
 * Desired and observed agree before anything is decided: after a crash, the new holder
 * re-applies what was decided (canary running, stable running, traffic at the desired
 * weight, a rollback finished). Returns why the canary is broken, if it is, and the weight the
 * traffic was put at (null when this rollout's weight was not checked).
 */
async function reconcile(target: Target, ref: RolloutRef, rollout: Rollout): Promise<{ failure: string | null; verifiedWeight: number | null }> {
  const unchecked = (failure: string | null = null) => ({ failure, verifiedWeight: null })
  if (rollout.status === 'ROLLING_BACK') {
    await target.rollback(ref)
    return unchecked()
  }
  if (rollout.fromVersion === null) {
    // An initial deploy is "done" only once the version serves: bring it up before deciding.
    if (rollout.status !== 'PENDING') return unchecked()
    try {
      await target.ensureStable(ref.application, ref.canaryVersion)
      return unchecked()
    } catch (error) {
      if (notTheCanary(error)) throw error
      return unchecked(`${ref.canaryVersion} could not be started: ${message(error)}`)
    }
  }
  if (!['PENDING', 'PROGRESSING', 'PAUSED'].includes(rollout.status)) return unchecked()
  const failure = await target.canaryFailure(ref)
  if (failure) return unchecked(failure)
  try {
    await target.ensureStable(ref.application, rollout.fromVersion)
    await target.prepare(ref)
  } catch (error) {
    if (notTheCanary(error)) throw error
    return unchecked(`the canary ${ref.canaryVersion} could not be started: ${message(error)}`)
  }
  if ((await target.observedWeight(ref)) !== rollout.desiredWeight) await target.setWeight(ref, rollout.desiredWeight)
  return { failure: null, verifiedWeight: rollout.desiredWeight }
}

/**
 * Carries out a stored decision. Idempotent: a crash before or during it is mended by reconcile.
 * `verifiedWeight`: the weight this tick's reconcile found the traffic at (null: not checked);
 * setting it again would only cost a fencing read and a target call per tick.
 */
async function actuate(target: Target, ref: RolloutRef, decision: Decision, verifiedWeight: number | null): Promise<void> {
  switch (decision.action) {
    case 'INITIAL_DEPLOY':
      await target.ensureStable(ref.application, ref.canaryVersion)
      return
    case 'ROLLBACK':
    case 'ABORT':
    case 'ROLLED_BACK':
      await target.rollback(ref)
      return
    case 'PROMOTE':
      await target.setWeight(ref, 100)
      await target.promote(ref)
      return
    default:
      if (decision.next.weight === verifiedWeight) return
      if (decision.next.status === 'PROGRESSING' || decision.next.status === 'PAUSED') await target.setWeight(ref, decision.next.weight)
  }
}

async function writeEvaluations(store: Store, rolloutId: string, stepIndex: number, evaluations: readonly GateEvaluation[]): Promise<StreakRecord[]> {
  const windowIds = new Map<WindowSample, string>()
  for (const { sample } of evaluations) {
    if (!sample || windowIds.has(sample)) continue
    const id = await store.evidence.writeWindow({
      rolloutId,
      stepIndex,
      provider: sample.provider,
      startAt: sample.start,
      endAt: sample.end,
      canary: sample.canary.values,
      baseline: sample.baseline.values,
    })
    windowIds.set(sample, id)
  }
  const written = await store.evidence.writeGateResults(
    evaluations.map(({ verdict, sample }) => ({
      rolloutId,
      stepIndex,
      gate: verdict.gate,
      verdict: verdict.verdict,
      value: verdict.value,
      reason: verdict.reason,
      evidence: verdict.evidence,
      windowId: sample ? (windowIds.get(sample) ?? null) : null,
    })),
  )
  // The streaks read only the evidence's state, which a verdict carries as stored.
  return evaluations.map(({ verdict }, i) => streakRecord({ gate: verdict.gate, stepIndex, at: written[i]!.at, verdict: verdict.verdict, evidence: verdict.evidence }))
}

async function writeSteps(store: Store, rolloutId: string, before: MachineState, after: MachineState, now: Date): Promise<void> {
  if (after.stepIndex === before.stepIndex && after.status === before.status) return
  for (let index = before.stepIndex; index < Math.min(after.stepIndex, before.steps.length); index++) {
    await store.rollouts.updateStep(rolloutId, index, { status: 'COMPLETED', finishedAt: now })
  }
  if (isFinished(after.status)) {
    const current = Math.min(after.stepIndex, before.steps.length - 1)
    if (current >= 0 && after.stepIndex < before.steps.length) {
      await store.rollouts.updateStep(rolloutId, current, { status: after.status === 'SUCCEEDED' ? 'COMPLETED' : 'SKIPPED', finishedAt: now })
    }
    return
  }
  if (after.stepIndex < before.steps.length && after.stepIndex !== before.stepIndex) {
    await store.rollouts.updateStep(rolloutId, after.stepIndex, { status: 'RUNNING', startedAt: now })
  } else if (before.status === 'PENDING' && after.status === 'PROGRESSING') {
    await store.rollouts.updateStep(rolloutId, after.stepIndex, { status: 'RUNNING', startedAt: now })
  }
}

/**
 * One reconcile of one rollout, as a straight chain: load, reconcile actuation, gather
 * telemetry, judge, decide, write the decision and desired weight in one transaction, then
 * actuate, then publish. The optimistic seq check makes a second writer fail instead of
 * deciding twice.
 */
export async function tickRollout(ctx: TickContext, rolloutId: string, memory: TickMemory): Promise<TickResult> {
  const { store, bus, log, metrics } = ctx
  const clock = ctx.clock ?? Date.now
  const transaction = ctx.transaction ?? (<T>(fn: (tx: Store) => Promise<T>) => store.transaction(fn))
  // The rollout, its application's spec and whether commands wait, in one read; an unchanged spec is not parsed again.
  const read = await store.rollouts.forTick(rolloutId)
  if (!read || isFinished(read.rollout.status)) return { finished: true, nextTickMs: 0 }
  const { rollout } = read
  const spec = specs.specOf(rollout.applicationId, read.specText)
  metrics?.weight(rolloutId, spec.name, rollout.canaryWeight)
  // A rollout's steps are snapshotted at its start: what a tick reads of them (kind, spec, how
  // many) never changes, so they are read once per holder. Their status is written, never read here.
  const steps = memory.steps ?? (memory.steps = (await store.rollouts.stepsFor([rolloutId]))[0] ?? [])
  const ref: RolloutRef = { rolloutId, application: spec, stableVersion: rollout.fromVersion, canaryVersion: rollout.toVersion }
  memory.ref = ref
  // Fencing (docs/ha.md): a holder that lost the rollout to a newer one writes nothing and moves nothing.
  const { fence } = ctx
  const checkFence = (on: Store): Promise<void> => (fence ? on.leases.checkFence(fence.name, fence.token) : Promise.resolve())
  const platform = ctx.targets(spec.target.kind)
  const target = platform && fence ? fencedTarget(platform, reuseRecentCheck(() => checkFence(store))) : platform

  let canaryFailure: string | null = target ? null : `this controller has no ${spec.target.kind} target`
  let verifiedWeight: number | null = null
  if (target) {
    try {
      ;({ failure: canaryFailure, verifiedWeight } = await reconcile(target, ref, rollout))
    } catch (error) {
      if (error instanceof FencedError) throw error
      if (error instanceof ProxyListenError) throw new CannotServeError(`${spec.name} ${rollout.toVersion}: ${error.message}`, { cause: error })
      log?.(`${spec.name} ${rollout.toVersion}: could not reconcile the target: ${message(error)}`)
      return { finished: false, nextTickMs: spec.intervalMs }
    }
  }

  const [command = null]: (OperatorCommand | null)[] = read.pendingCommands > 0 ? await store.commands.pending(rolloutId) : []
  const state = machineState(rollout, steps, spec)
  const step = steps[rollout.currentStepIndex]
  const now = clock()

  let evaluations: GateEvaluation[] | null = null
  let gates: GateInput[] | null = null
  if (rollout.status === 'PROGRESSING' && step?.kind === 'analyze' && !canaryFailure && spec.gates.length > 0) {
    evaluations = await evaluateGates({
      spec,
      canaryVersion: rollout.toVersion,
      baselineVersion: rollout.fromVersion,
      canaryWeight: rollout.canaryWeight,
      stepStartedAt: rollout.stepStartedAt?.getTime() ?? now,
      now,
      providers: ctx.providers(),
      history: (provider) => memory.history.get(provider) ?? [],
      runs: (memory.runs ??= new JudgeRuns()),
      timeoutMs: Math.min(spec.intervalMs, 10_000),
    })
    metrics?.evaluated(rolloutId, spec.name, evaluations)
    rememberWindows(memory.history, evaluations)
    const lookback = streakLookback(spec.gates)
    if (memory.recent?.lookback !== lookback) {
      const [results = []] = await store.evidence.gateResultsFor([rolloutId], { last: lookback })
      memory.recent = { lookback, results: results.map(streakRecord) }
    }
    gates = gateInputs(evaluations, inconclusiveStreaks(memory.recent.results, rollout.currentStepIndex, state.stepStartedAt))
  }

  const decision = decide({
    state,
    gates,
    command: command ? { kind: command.kind, full: command.full, actor: command.actor, reason: command.reason } : null,
    canaryFailure,
    now,
  })
  const { next } = decision
  const stateChanged =
    next.status !== state.status || next.stepIndex !== state.stepIndex || next.weight !== state.weight || next.stepStartedAt !== state.stepStartedAt
  if (decision.action === null && !stateChanged && evaluations === null && command === null) {
    return { finished: false, nextTickMs: spec.intervalMs }
  }

  // A decision at an analyze step links the traces and log lines it rests on (fetched before
  // the transaction: no network call holds it open; bounded by the gates' own timeout).
  const links =
    evaluations !== null && decision.action !== null
      ? await linkEvidence({
          store,
          spec,
          rolloutId,
          stepIndex: rollout.currentStepIndex,
          canaryVersion: rollout.toVersion,
          baselineVersion: rollout.fromVersion,
          evaluations,
          providers: ctx.providers(),
          signal: AbortSignal.timeout(Math.min(spec.intervalMs, 10_000)),
        })
      : null

  const at = new Date(now)
  let results: StreakRecord[] = []
  const written = await transaction(async (tx) => {
    await checkFence(tx)
    if (evaluations) results = await writeEvaluations(tx, rolloutId, rollout.currentStepIndex, evaluations)
    // Only the columns that changed: SQLite rewrites the entries of every index on a column
    // named in the SET list, changed or not (docs/benchmarks.md, "Where a SQLite commit's time goes").
    const updated = await tx.rollouts.update(
      rolloutId,
      {
        ...(next.status !== rollout.status ? { status: next.status } : {}),
        ...(next.weight !== rollout.desiredWeight ? { desiredWeight: next.weight } : {}),
        ...(next.stepIndex !== rollout.currentStepIndex ? { currentStepIndex: next.stepIndex } : {}),
        ...(next.stepStartedAt !== (rollout.stepStartedAt?.getTime() ?? null) ? { stepStartedAt: next.stepStartedAt === null ? null : new Date(next.stepStartedAt) } : {}),
        ...(rollout.startedAt === null && next.status !== 'PENDING' ? { startedAt: at } : {}),
        ...(decision.finished ? { finishedAt: at } : {}),
      },
      { expectSeq: rollout.seq, current: rollout },
    )
    await writeSteps(tx, rolloutId, state, next, at)
    if (decision.action !== null) {
      await tx.decisions.append({
        rolloutId,
        seq: updated.seq,
        at,
        action: decision.action,
        actor: decision.actor,
        reason: decision.reason,
        stepIndex: state.stepIndex,
        fromWeight: state.weight,
        toWeight: next.weight,
        evidence: { ...(decision.evidence as unknown as { [key: string]: Json }), ...(links ? evidenceKeys(links) : {}) },
      })
    }
    if (command) await tx.commands.markApplied(command.id, decision.commandOutcome ?? 'APPLIED')
    if (decision.action === 'INITIAL_DEPLOY' || (decision.action === 'PROMOTE' && next.status === 'SUCCEEDED')) {
      await tx.applications.setStableVersion(rollout.applicationId, rollout.toVersion)
    }
    return updated
  })
  // Committed: the streaks of the next tick count these too.
  if (memory.recent && results.length > 0) memory.recent = { lookback: memory.recent.lookback, results: [...memory.recent.results, ...results].slice(-memory.recent.lookback) }

  if (decision.action !== null) metrics?.decided(spec.name, decision.action, now, clock())
  annotateTick({ 'sentra.application': spec.name, 'sentra.rollout.status': written.status, 'sentra.step.index': written.currentStepIndex })
  if (decision.action !== null) {
    traceDecision({ application: spec.name, action: decision.action, reason: decision.reason, fromWeight: state.weight, toWeight: next.weight, stepIndex: state.stepIndex, seq: written.seq })
  }
  if (decision.action !== null) log?.(`${spec.name} ${rollout.toVersion}: ${decision.action} — ${decision.reason}`)
  // Every seq bump is published once, in order, so subscribers can tell a missed event.
  const changes: { seq: number; status: string; kind: 'decision' | 'window' | 'state' | 'weight' }[] = [
    { seq: written.seq, status: written.status, kind: decision.action !== null ? 'decision' : evaluations ? 'window' : 'state' },
  ]
  let final = written
  if (target) {
    try {
      await actuate(target, ref, decision, verifiedWeight)
      const observed = await target.observedWeight(ref)
      const canaryWeight = decision.action === 'INITIAL_DEPLOY' ? 100 : observed
      if (canaryWeight !== null && canaryWeight !== written.canaryWeight) {
        final = await transaction(async (tx) => {
          await checkFence(tx)
          return tx.rollouts.update(rolloutId, { canaryWeight }, { expectSeq: written.seq, current: written })
        })
        changes.push({ seq: final.seq, status: final.status, kind: 'weight' })
      }
    } catch (error) {
      // A newer holder has the rollout: it re-applies the stored decision, not us.
      if (error instanceof FencedError) throw error
      // Stored already: the next tick's reconcile retries the actuation.
      log?.(`${spec.name} ${rollout.toVersion}: actuation failed, will retry: ${message(error)}`)
    }
  }
  for (const change of changes) {
    const publishing = performance.now()
    await bus.publish('rollout.changed', { rolloutId, application: spec.name, ...change, at: new Date().toISOString() })
    metrics?.busPublish.observe((performance.now() - publishing) / 1000)
  }
  const finished = isFinished(final.status)
  if (finished) metrics?.finished(rolloutId)
  else metrics?.weight(rolloutId, spec.name, final.canaryWeight)
  return { finished, nextTickMs: nextTickDelayMs(next, spec.intervalMs) }
}
