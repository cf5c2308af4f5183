/**
 * The Prometheus provider: each gate's PromQL query, rendered once for the canary and once
 * for the baseline, run as an instant query at the window's end. A gate's value is the one
 * number the query returns (a vector of exactly one series, or a scalar); anything else
 * (a Prometheus error, no series, several series, NaN, ±Inf, a range vector, a failed
 * request) is no data for that gate, with the reason, never a zero and never a pass.
 *
 * Per-gate failures: `sample` answers one window for all of this provider's gates, so a gate
 * whose query failed gets `values[gate] = null` and its reason in `reasons[gate]` on the same
 * side (see {@link PrometheusVersionWindow}); the other gates keep their values. Only when
 * every gate's canary query failed does `sample` throw: a {@link NoDataError} naming each
 * gate's reason when Prometheus answered, a {@link PrometheusError} when it could not be
 * asked at all (unreachable, timeout, not a Prometheus answer).
 *
 * @example
 * const prometheus = new PrometheusProvider({ url: 'http://127.0.0.1:9090', timeoutMs: 5000 })
 * await prometheus.checkQuery('sum(rate(http_requests_total{version="{{version}}"}[{{window}}]))', signal)
 * const sample = await prometheus.sample(windowQuery, signal)
 * sample.canary.values['errors']   // a number, or null with sample.canary.reasons['errors']
 */
import type { GateSpec } from '../../schema/spec.ts'
import { templateProblem } from '../../schema/spec/rules.ts'
import {
  type InstantResult,
  type Labels,
  PrometheusClient,
  type PrometheusClientConfig,
  PrometheusError,
  type RangeParams,
  type RangeResult,
  messageOf,
  snippet,
} from './prometheus-api.ts'
import { NoDataError, type TelemetryProvider, type VersionWindow, type WindowQuery, type WindowSample } from './provider.ts'

export {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  MAX_RANGE_POINTS,
  PrometheusClient,
  PrometheusError,
} from './prometheus-api.ts'
export type {
  InstantData,
  InstantResult,
  InstantSample,
  Labels,
  Notes,
  PrometheusClientConfig,
  PrometheusFailure,
  RangeParams,
  RangeResult,
  RangeSeries,
} from './prometheus-api.ts'

/** Templates a Prometheus query may use. */
export const PROMETHEUS_TEMPLATES = ['application', 'version', 'namespace', 'window', 'interval'] as const
export type PrometheusTemplate = (typeof PROMETHEUS_TEMPLATES)[number]
export type TemplateValues = Record<PrometheusTemplate, string>

export interface PrometheusProviderConfig extends PrometheusClientConfig {
  /** `{{namespace}}` when the window query does not give one. Default ''. */
  namespace?: string
  /** `{{interval}}` (the evaluation interval) when the window query does not give one. Default 5000 (the spec's default). */
  intervalMs?: number
  /** Queries in flight at once per `sample`. Default 8. */
  concurrency?: number
}

/** A window query, optionally with the values of `{{namespace}}` and `{{interval}}`. */
export interface PrometheusWindowQuery extends WindowQuery {
  namespace?: string
  /** The application's evaluation interval, rendered as `{{interval}}`. */
  intervalMs?: number
}

/** One version's window, with what Prometheus was asked and why a value is missing. */
export interface PrometheusVersionWindow extends VersionWindow {
  /** The rendered PromQL per gate name. */
  queries: Record<string, string>
  /** Why `values[gate]` is null, per gate name (only for null values). */
  reasons: Record<string, string>
  /**
   * Prometheus's warnings and infos per gate name. They do not make a value inconclusive
   * (Prometheus still computed it); they are kept as evidence.
   */
  warnings: Record<string, string[]>
}

export interface PrometheusWindowSample extends WindowSample {
  canary: PrometheusVersionWindow
  baseline: PrometheusVersionWindow
}

/** Optional values for {@link PrometheusProvider.checkQuery}'s dry run. */
export interface CheckQueryVars {
  application?: string
  /** The version to render; use the stable version when there is one. Default 'sentra-dry-run'. */
  version?: string
  namespace?: string
}

/** A duration in whole seconds, rounded up, at least 1s: 19.2 s -> "20s". */
export function promDuration(ms: number): string {
  const seconds = Number.isFinite(ms) ? Math.max(1, Math.ceil(ms / 1000)) : 1
  return `${seconds}s`
}

/** Escapes a value for a PromQL double-quoted string (`version="{{version}}"`). */
function promString(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/**
 * Renders `{{application}}`, `{{version}}`, `{{namespace}}` (escaped for a PromQL string),
 * `{{window}}` and `{{interval}}` (PromQL durations).
 *
 * @throws Error when the query uses an unknown template such as `{{verison}}`.
 */
export function renderQuery(query: string, values: TemplateValues): string {
  const problem = templateProblem(query, PROMETHEUS_TEMPLATES, false)
  if (problem !== undefined) throw new Error(`the query ${problem}`)
  return query.replace(/\{\{(application|version|namespace|window|interval)\}\}/g, (_match, name: PrometheusTemplate) =>
    name === 'window' || name === 'interval' ? values[name] : promString(values[name]),
  )
}

/** `http_requests_total{code="500",version="v2"}` */
function seriesName(metric: Labels): string {
  const { __name__: name = '', ...rest } = metric
  const pairs = Object.entries(rest)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
  return snippet(`${name}{${pairs.join(',')}}`, 160)
}

function valueWords(value: number): string {
  return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf'
}

/**
 * The one number an instant query result stands for, or why there is none: a vector of
 * exactly one series or a scalar, finite. `version` only makes the reason clearer.
 */
export function singleValue(result: InstantResult, version: string): { ok: true; value: number } | { ok: false; reason: string } {
  const forVersion = version === '' ? '' : ` for ${version}`
  let value: number
  switch (result.resultType) {
    case 'vector': {
      const series = result.result
      if (series.length === 0) return { ok: false, reason: `no series matched the query${forVersion} (no data; an empty result is never read as 0)` }
      if (series.length > 1) {
        const shown = series.slice(0, 3).map((s) => seriesName(s.metric)).join(', ')
        return {
          ok: false,
          reason: `query returned ${series.length} series${forVersion}; aggregate it to one, e.g. sum(...) (got ${shown}${series.length > 3 ? ', …' : ''})`,
        }
      }
      const only = series[0]!
      if (only.value === null) {
        return { ok: false, reason: `the query returned a native histogram${forVersion}; use histogram_quantile(...), histogram_count(...) or histogram_sum(...) to get a number` }
      }
      value = only.value
      break
    }
    case 'scalar':
      value = result.result.value
      break
    case 'matrix':
      return {
        ok: false,
        reason: `the query returned a range vector (${result.result.length} series)${forVersion}; a gate needs one number: wrap the range in a function, e.g. sum(rate(x[{{window}}]))`,
      }
    case 'string':
      return { ok: false, reason: `the query returned a string (${JSON.stringify(snippet(result.result.value, 60))})${forVersion}, not a number` }
  }
  if (Number.isNaN(value)) return { ok: false, reason: `the query returned NaN${forVersion} (often 0/0: no requests in the window)` }
  if (!Number.isFinite(value)) return { ok: false, reason: `the query returned ${valueWords(value)}${forVersion} (a division by zero?)` }
  return { ok: true, value }
}

function emptySide(version: string): PrometheusVersionWindow {
  return { version, requests: null, errors: null, values: {}, queries: {}, reasons: {}, warnings: {} }
}

/** Runs `jobs` with at most `limit` in flight; rejects with the first failure. */
async function runLimited(jobs: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next]!
      next += 1
      await job()
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker))
}

/** The Prometheus HTTP API as a {@link TelemetryProvider}. */
export class PrometheusProvider implements TelemetryProvider {
  readonly kind = 'prometheus'
  readonly client: PrometheusClient
  readonly #namespace: string
  readonly #intervalMs: number
  readonly #concurrency: number

  /** @throws Error on an invalid URL, timeout or auth combination. */
  constructor(config: PrometheusProviderConfig) {
    this.client = new PrometheusClient(config)
    this.#namespace = config.namespace ?? ''
    this.#intervalMs = config.intervalMs ?? 5000
    if (!Number.isFinite(this.#intervalMs) || this.#intervalMs <= 0) throw new Error(`Prometheus intervalMs must be positive (got ${config.intervalMs})`)
    this.#concurrency = config.concurrency ?? 8
    if (!Number.isInteger(this.#concurrency) || this.#concurrency < 1) throw new Error(`Prometheus concurrency must be a whole number of at least 1 (got ${config.concurrency})`)
  }

  /** The base URL (without credentials). */
  get url(): string {
    return this.client.url
  }

  /** An instant query at `time`, the result as Prometheus gave it (parsed and checked). */
  query(promql: string, time: Date, signal: AbortSignal): Promise<InstantResult> {
    return this.client.query(promql, time, signal)
  }

  /** A range query (`/api/v1/query_range`), e.g. for evidence charts. */
  queryRange(promql: string, range: RangeParams, signal: AbortSignal): Promise<RangeResult> {
    return this.client.queryRange(promql, range, signal)
  }

  async sample(q: PrometheusWindowQuery, signal: AbortSignal): Promise<PrometheusWindowSample> {
    signal.throwIfAborted()
    const base = {
      application: q.application,
      namespace: q.namespace ?? this.#namespace,
      window: promDuration(q.end.getTime() - q.start.getTime()),
      interval: promDuration(q.intervalMs ?? this.#intervalMs),
    }
    const canary = emptySide(q.canaryVersion)
    const baseline = emptySide(q.baselineVersion ?? '')
    /** Failures that mean "Prometheus could not be asked", per gate (canary side). */
    const unasked = new Map<string, PrometheusError>()
    const jobs: Array<() => Promise<void>> = []

    const ask = (gate: GateSpec, side: PrometheusVersionWindow, isCanary: boolean): void => {
      side.values[gate.name] = null
      if (gate.query === undefined) {
        side.reasons[gate.name] = `gate ${gate.name} has no query (it uses the built-in signal ${gate.signal})`
        return
      }
      let promql: string
      try {
        promql = renderQuery(gate.query, { ...base, version: side.version })
      } catch (error) {
        side.reasons[gate.name] = messageOf(error)
        return
      }
      side.queries[gate.name] = promql
      jobs.push(async () => {
        try {
          const result = await this.client.query(promql, q.end, signal)
          const notes = [...result.warnings, ...result.infos.map((info) => `info: ${info}`)]
          if (notes.length > 0) side.warnings[gate.name] = notes
          const read = singleValue(result, side.version)
          if (read.ok) side.values[gate.name] = read.value
          else side.reasons[gate.name] = read.reason
        } catch (error) {
          if (signal.aborted) throw signal.reason
          if (!(error instanceof PrometheusError)) throw error
          side.reasons[gate.name] = error.message
          if (isCanary && !error.queryRejected) unasked.set(gate.name, error)
        }
      })
    }

    for (const gate of q.gates) {
      ask(gate, canary, true)
      if (q.baselineVersion === null) {
        baseline.values[gate.name] = null
        baseline.reasons[gate.name] = 'there is no baseline version to compare with'
      } else {
        ask(gate, baseline, false)
      }
    }
    await runLimited(jobs, this.#concurrency)
    signal.throwIfAborted()

    const failed = q.gates.filter((gate) => canary.values[gate.name] === null)
    if (q.gates.length > 0 && failed.length === q.gates.length) {
      const reasons = new Set(failed.map((gate) => canary.reasons[gate.name] ?? 'no data'))
      const text =
        reasons.size === 1 ? [...reasons][0]! : failed.map((gate) => `${gate.name}: ${canary.reasons[gate.name] ?? 'no data'}`).join('; ')
      if (unasked.size === failed.length) {
        throw new PrometheusError(unasked.values().next().value!.kind, text)
      }
      throw new NoDataError(text)
    }
    return { provider: this.kind, start: q.start, end: q.end, canaryWeight: q.canaryWeight, canary, baseline }
  }

  /**
   * Reachability: `/api/v1/status/buildinfo` (with the configured auth), falling back to the
   * query `vector(1)` for Prometheus-compatible servers that lack that endpoint.
   *
   * @throws PrometheusError with what went wrong, e.g. "cannot reach Prometheus at http://…: connection refused (ECONNREFUSED)".
   */
  async ping(signal: AbortSignal): Promise<void> {
    try {
      await this.client.buildInfo(signal)
    } catch (error) {
      if (!(error instanceof PrometheusError)) throw error
      const missing = error.status === 404 || error.errorType === 'not_found' || error.kind === 'malformed'
      if (!missing) throw error
      const result = await this.client.query('vector(1)', new Date(), signal)
      if (!singleValue(result, '').ok) throw new PrometheusError('malformed', `${this.url} answered the query vector(1) without the value 1`)
    }
  }

  /**
   * A dry run for startRollout's pre-flight check: renders the templates with a sample
   * version (a 60 s window) and runs the query now. Passes when Prometheus parses and
   * evaluates it to a vector or scalar; no data is fine (the version may not be running yet).
   *
   * @throws Error with the template problem, or a PrometheusError with Prometheus's own message
   * (e.g. `Prometheus error (bad_data, HTTP 400): invalid parameter "query": 1:17: parse error: unclosed left parenthesis`),
   * or an Error when the query returns a range vector, a string or several series.
   */
  async checkQuery(query: string, signal: AbortSignal, vars: CheckQueryVars = {}): Promise<void> {
    const version = vars.version ?? 'sentra-dry-run'
    const promql = renderQuery(query, {
      application: vars.application ?? 'sentra-dry-run',
      version,
      namespace: vars.namespace ?? this.#namespace,
      window: promDuration(60_000),
      interval: promDuration(this.#intervalMs),
    })
    const result = await this.client.query(promql, new Date(), signal)
    const read = singleValue(result, version)
    if (read.ok) return
    // No data (no series, NaN, ±Inf) is fine before the version runs; a shape no window can use is not.
    const unusable =
      result.resultType === 'matrix' ||
      result.resultType === 'string' ||
      (result.resultType === 'vector' && (result.result.length > 1 || result.result[0]?.value === null))
    if (unusable) throw new Error(read.reason)
  }
}
