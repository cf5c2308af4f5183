import type { Bus, Unsubscribe } from '../schema/events/bus.ts'
import type { PreflightIssue } from '../schema/events/channels.ts'
import { assertSpec, type AppSpec } from '../schema/spec.ts'
import type { Store } from '../schema/store/index.ts'
import { providerKey } from './evaluate.ts'
import type { TelemetryProvider } from './telemetry/provider.ts'

const CHECK_TIMEOUT_MS = 6000

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Tries every provider gate of a spec: the provider answers, and its query parses. */
export async function checkProviderGates(spec: AppSpec, version: string, providers: ReadonlyMap<string, TelemetryProvider>): Promise<PreflightIssue[]> {
  const pinged = new Map<TelemetryProvider, Promise<string | null>>()
  const checks = spec.gates.map(async (gate): Promise<PreflightIssue | null> => {
    if (gate.provider === undefined) return null
    const key = providerKey(gate)
    const label = gate.source ?? gate.provider
    const provider = providers.get(key)
    if (!provider) return { gate: gate.name, provider: label, message: `no ${gate.source ? `provider named "${gate.source}"` : `${gate.provider} provider`} is declared (applyProvider)` }
    if (!pinged.has(provider)) pinged.set(provider, provider.ping(AbortSignal.timeout(CHECK_TIMEOUT_MS)).then(() => null, message))
    const down = await pinged.get(provider)
    if (down) return { gate: gate.name, provider: label, message: `does not answer: ${down}` }
    if (!provider.checkQuery) return null
    try {
      await provider.checkQuery(gate.query, AbortSignal.timeout(CHECK_TIMEOUT_MS), { application: spec.name, version })
      return null
    } catch (error) {
      return { gate: gate.name, provider: label, message: message(error) }
    }
  })
  return (await Promise.all(checks)).filter((issue): issue is PreflightIssue => issue !== null)
}

/** Answers the API's dry-run requests (schema/preflight.ts) with this controller's providers. */
export async function answerPreflights({
  store,
  bus,
  responder,
  providers,
  log,
}: {
  store: Store
  bus: Bus
  responder: string
  providers: () => ReadonlyMap<string, TelemetryProvider>
  log?: (line: string) => void
}): Promise<Unsubscribe> {
  return bus.subscribe('preflight.request', (request) => {
    void (async () => {
      const app = await store.applications.byName(request.application)
      if (!app) return
      const issues = await checkProviderGates(assertSpec(app.spec), request.version, providers())
      await bus.publish('preflight.reply', { requestId: request.requestId, responder, issues, at: new Date().toISOString() })
    })().catch((error: unknown) => log?.(`controller: preflight of ${request.application} failed: ${message(error)}`))
  })
}
