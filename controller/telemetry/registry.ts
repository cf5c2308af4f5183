import type { ProviderSpec } from '../../schema/provider-spec.ts'
import type { ProviderRepository } from '../../schema/store/providers.ts'
import { LokiProvider } from './loki.ts'
import { PrometheusProvider } from './prometheus.ts'
import { TempoProvider } from './tempo.ts'
import type { TelemetryProvider } from './provider.ts'

/** The one factory switch: a declared provider becomes a client of its kind. */
export type ProviderFactory = (spec: ProviderSpec) => TelemetryProvider

const factories: Record<ProviderSpec['kind'], ProviderFactory> = {
  prometheus: (spec) =>
    new PrometheusProvider({
      url: spec.url,
      headers: spec.headers,
      timeoutMs: spec.timeoutMs,
      ...(spec.bearerToken !== undefined ? { bearerToken: spec.bearerToken } : {}),
      ...(spec.basicAuth !== undefined ? { basicAuth: spec.basicAuth } : {}),
    }),
  loki: (spec) => LokiProvider.fromSpec(spec),
  tempo: (spec) => TempoProvider.fromSpec(spec),
}

/**
 * The providers a controller asks, kept in step with the declared ones in the store. Keys
 * are what gates resolve to (see providerKey): `builtin`, a kind (its default provider:
 * the one named after the kind, else the only one of the kind), and `source:<name>`.
 */
export class ProviderRegistry {
  readonly #repo: ProviderRepository
  readonly #builtin: TelemetryProvider
  #version = ''
  #map: ReadonlyMap<string, TelemetryProvider>

  constructor(repo: ProviderRepository, builtin: TelemetryProvider) {
    this.#repo = repo
    this.#builtin = builtin
    this.#map = new Map([['builtin', builtin]])
  }

  get providers(): ReadonlyMap<string, TelemetryProvider> {
    return this.#map
  }

  /** Reloads the declared providers when they changed (one cheap query otherwise). */
  async refresh(): Promise<void> {
    const version = await this.#repo.version()
    if (version === this.#version) return
    const declared = await this.#repo.list()
    const map = new Map<string, TelemetryProvider>([['builtin', this.#builtin]])
    const byKind = new Map<string, ProviderSpec[]>()
    for (const { spec } of declared) {
      map.set(`source:${spec.name}`, factories[spec.kind](spec))
      byKind.set(spec.kind, [...(byKind.get(spec.kind) ?? []), spec])
    }
    for (const [kind, specs] of byKind) {
      const chosen = specs.find((s) => s.name === kind) ?? (specs.length === 1 ? specs[0] : undefined)
      const client = chosen ? map.get(`source:${chosen.name}`) : undefined
      if (client) map.set(kind, client)
    }
    this.#map = map
    this.#version = version
  }
}
