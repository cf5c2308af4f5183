import type { GateResult, Json, Rollout } from '../store/models.ts'
import { builder } from './builder.ts'
import type { GraphContext } from './context.ts'
import { VerdictEnum } from './enums.ts'

/** A gate as the application's spec defines it, with its latest result in one rollout. */
export interface GateView {
  name: string
  signal: string | null
  provider: string | null
  query: string | null
  judge: Json
  dryRun: boolean
  lastResult: GateResult | null
}

// The controller writes a result for every gate on each tick and a spec has at most 50
// gates, so the latest 50 results of a rollout hold the latest result of each gate.
const RECENT_RESULTS = 50

function text(value: Json | undefined): string | null {
  return typeof value === 'string' ? value : null
}

export async function gatesOf(rollout: Rollout, ctx: GraphContext): Promise<GateView[]> {
  const [app, recent] = await Promise.all([
    ctx.loaders.application.load(rollout.applicationId),
    ctx.loaders.gateResults(RECENT_RESULTS).load(rollout.id),
  ])
  const gates = app?.spec.gates
  if (!Array.isArray(gates)) return []
  const latest = new Map<string, GateResult>()
  for (const result of recent) latest.set(result.gate, result)
  return gates.flatMap((gate) => {
    if (!gate || typeof gate !== 'object' || Array.isArray(gate)) return []
    const name = text(gate.name)
    if (!name) return []
    return [
      {
        name,
        signal: text(gate.signal),
        provider: text(gate.provider),
        query: text(gate.query),
        judge: gate.judge ?? null,
        dryRun: gate.dryRun === true,
        lastResult: latest.get(name) ?? null,
      },
    ]
  })
}

export const GateResultRef = builder.objectRef<GateResult>('GateResult').implement({
  description: "One gate's verdict on one window, with the values and thresholds behind it.",
  fields: (t) => ({
    id: t.exposeID('id'),
    gate: t.exposeString('gate'),
    stepIndex: t.exposeInt('stepIndex'),
    verdict: t.expose('verdict', { type: VerdictEnum }),
    value: t.exposeFloat('value', { nullable: true }),
    reason: t.exposeString('reason'),
    evidence: t.field({ type: 'JSON', resolve: (g) => g.evidence }),
    windowId: t.exposeID('windowId', { nullable: true }),
    at: t.expose('at', { type: 'DateTime' }),
  }),
})

export const GateRef = builder.objectRef<GateView>('Gate').implement({
  description: 'A check the new version must pass: a built-in signal or a provider query, and a judge.',
  fields: (t) => ({
    name: t.exposeString('name'),
    signal: t.exposeString('signal', { nullable: true }),
    provider: t.exposeString('provider', { nullable: true }),
    query: t.exposeString('query', { nullable: true }),
    judge: t.field({ type: 'JSON', resolve: (g) => g.judge }),
    dryRun: t.exposeBoolean('dryRun'),
    lastResult: t.field({ type: GateResultRef, nullable: true, resolve: (g) => g.lastResult }),
  }),
})
