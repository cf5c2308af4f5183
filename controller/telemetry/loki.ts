/**
 * Loki gates: LogQL metric queries through Loki's HTTP API, and the log lines behind them.
 *
 * A gate's `query` is a LogQL metric query returning ONE number for one version, with
 * `{{version}}` (and optionally `{{application}}`, `{{window}}`) templates. For each gate the
 * provider renders it for the canary and for the baseline, with `{{window}}` the window's
 * length in seconds (`20s`), and runs it as an instant query (`/loki/api/v1/query`) at the
 * window's end. The value is the single sample of the answer (a vector of one series, or a
 * scalar). Anything else is no value (null) with the reason in that side's `reasons[gate]`
 * (which the judges quote): an error answer, an empty vector, several series, NaN or ±Inf, a
 * warning (partial data). Only when every gate's canary value is missing does `sample`
 * throw: a NoDataError when Loki answered but had nothing (no series, NaN), else an Error
 * naming each gate's reason (one reason when they are all the same).
 *
 * An error ratio, e.g.:
 *
 * ```logql
 * (sum(count_over_time({app="{{application}}", version="{{version}}"} |= "level=error" [{{window}}])) or vector(0))
 *   / sum(count_over_time({app="{{application}}", version="{{version}}"} [{{window}}]))
 * ```
 *
 * (`or vector(0)`: with no error lines the numerator has no series at all, and the ratio
 * would be empty, i.e. no data, instead of 0.)
 *
 * Loki cannot count requests, so `requests`/`errors` are null and the judges decide on the
 * value alone (no minimum-traffic rule). {@link LokiProvider.evidenceLines} fetches the lines
 * behind a gate (its numerator's log query) for the decision's evidence.
 */
import type { GateSpec } from '../../schema/spec.ts'
import type { ProviderSpec } from '../../schema/provider-spec.ts'
import { QUERY_TEMPLATES, templateProblem } from '../../schema/spec/rules.ts'
import {
  HttpSource,
  type HttpSourceOptions,
  TelemetryHttpError,
  clip,
  httpOptionsOf,
  isRecord,
  pooled,
  renderQuery,
  windowDuration,
} from './loki-tempo-http.ts'
import { NoDataError, type TelemetryProvider, type VersionWindow, type WindowQuery, type WindowSample } from './provider.ts'

export { TelemetryHttpError, renderQuery, windowDuration } from './loki-tempo-http.ts'
export type { HttpSourceOptions } from './loki-tempo-http.ts'

export interface LokiProviderOptions extends HttpSourceOptions {
  /** Queries in flight at once during one sample; default 4. */
  concurrency?: number
}

/** One version's window from Loki, with what was asked and why a value is missing. */
export interface LokiVersionWindow extends VersionWindow {
  /** The rendered LogQL per gate name. */
  queries: Record<string, string>
  /** Why `values[gate]` is null, per gate name (only for null values). */
  reasons: Record<string, string>
}

export interface LokiWindowSample extends WindowSample {
  canary: LokiVersionWindow
  baseline: LokiVersionWindow
}

/** One log line, for evidence. */
export interface LogLine {
  time: Date
  /** Loki's nanosecond timestamp, exact. */
  ns: string
  line: string
  labels: Record<string, string>
}

/** A query's single value, or why there is none (`noData`: asked fine, nothing there). */
export type LokiValue =
  | { ok: true; value: number }
  /** `unusable`: no window could use an answer of this shape (several series, a log query, not a number). */
  | { ok: false; reason: string; noData: boolean; unusable: boolean }

function nanos(date: Date): string {
  return (BigInt(date.getTime()) * 1_000_000n).toString()
}

/** Loki's (Go's) float spellings: "NaN", "+Inf", "-Inf", or a decimal. */
function parseSampleValue(raw: unknown): LokiValue {
  if (typeof raw !== 'string') return { ok: false, reason: `loki sent a sample value that is not a string (${JSON.stringify(raw)})`, noData: false, unusable: true }
  if (raw === 'NaN') return { ok: false, reason: 'the value is NaN (0/0: no lines in the window?)', noData: true, unusable: false }
  if (raw === '+Inf' || raw === 'Inf' || raw === '-Inf') {
    return { ok: false, reason: `the value is ${raw} (a division by zero: no lines for the denominator in the window?)`, noData: true, unusable: false }
  }
  const value = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(value)) return { ok: false, reason: `loki sent a sample value that is not a number (${JSON.stringify(clip(raw, 40))})`, noData: false, unusable: true }
  return { ok: true, value }
}

/** The single value of an instant-query answer. */
export function lokiValueOf(body: unknown): LokiValue {
  const shape = (what: string): LokiValue => ({ ok: false, reason: `loki's answer is not a query result (${what})`, noData: false, unusable: true })
  if (!isRecord(body)) return shape('not a JSON object')
  if (body.status === undefined) return shape('no status')
  if (body.status !== 'success') {
    const error = typeof body.error === 'string' ? `: ${clip(body.error)}` : ''
    return { ok: false, reason: `loki answered status ${JSON.stringify(body.status ?? null)}${error}`, noData: false, unusable: false }
  }
  const data = body.data
  if (!isRecord(data)) return shape('no data object')
  if (Array.isArray(body.warnings) && body.warnings.length > 0) {
    return { ok: false, reason: `loki warned (the result may be partial): ${clip(body.warnings.map(String).join('; '))}`, noData: false, unusable: false }
  }
  const { resultType, result } = data
  if (resultType === 'scalar') {
    if (!Array.isArray(result) || result.length !== 2) return shape('a scalar that is not [time, "value"]')
    return parseSampleValue(result[1])
  }
  if (resultType !== 'vector') {
    return { ok: false, reason: `the query returned a ${typeof resultType === 'string' ? resultType : 'result of unknown type'}; a gate needs a metric query that returns one number (a vector or a scalar)`, noData: false, unusable: true }
  }
  if (!Array.isArray(result)) return shape('a vector without a result list')
  if (result.length === 0) return { ok: false, reason: 'the query returned no series (no matching log lines in the window)', noData: true, unusable: false }
  if (result.length > 1) {
    return { ok: false, reason: `the query returned ${result.length} series; a gate query must return one (aggregate it, e.g. sum(...))`, noData: false, unusable: true }
  }
  const only = result[0]
  if (!isRecord(only) || !Array.isArray(only.value) || only.value.length !== 2) return shape('a vector sample that is not {metric, value: [time, "value"]}')
  return parseSampleValue(only.value[1])
}

/**
 * The log query inside a metric query's first range aggregation (the numerator of a ratio):
 * `sum(count_over_time({app="x"} |= "error" [20s])) / …` → `{app="x"} |= "error"`.
 * A plain log query comes back as it is; null when there is no `{…}` selector.
 */
export function logSelectorOf(query: string): string | null {
  const open = query.indexOf('{')
  if (open < 0) return null
  let depth = 0
  let quote: string | null = null
  let out = ''
  // Walk to the end of the log query: skip a range ('[5m]', which may sit between the
  // selector and its filters) and stop at a ')' that closes the enclosing call, outside
  // strings and braces.
  for (let i = open; i < query.length; i++) {
    const c = query[i] ?? ''
    if (quote !== null) {
      out += c
      if (c === '\\' && quote === '"') out += query[++i] ?? ''
      else if (c === quote) quote = null
      continue
    }
    if (c === '"' || c === '`') quote = c
    else if (c === '{') depth += 1
    else if (c === '}') depth -= 1
    else if (depth === 0 && c === '[') {
      const close = query.indexOf(']', i)
      if (close < 0) break
      i = close
      continue
    } else if (depth === 0 && c === ')') break
    out += c
  }
  const selector = out.trim()
  return selector === '' ? null : selector
}

/**
 * The Loki provider (kind `loki`). See the file comment for what a gate's query must be.
 *
 * @example
 * const loki = new LokiProvider({ url: 'http://loki:3100', tenant: 'shop', timeoutMs: 5000 })
 * const sample = await loki.sample(windowQuery, AbortSignal.timeout(10_000))
 * sample.canary.values['log-errors'] // 0.081, or null with sample.canary.reasons['log-errors']
 */
export class LokiProvider implements TelemetryProvider {
  readonly kind = 'loki'
  readonly #http: HttpSource
  readonly #concurrency: number

  /** The client for a declared provider (for the registry's factory switch). */
  static fromSpec(spec: ProviderSpec): LokiProvider {
    return new LokiProvider(httpOptionsOf(spec))
  }

  constructor(options: LokiProviderOptions) {
    this.#http = new HttpSource('loki', options)
    this.#concurrency = Math.max(1, options.concurrency ?? 4)
  }

  /** Runs `query` as an instant query at `time` and reads its single value. Throws only when `signal` aborts. */
  async instant(query: string, time: Date, signal: AbortSignal): Promise<LokiValue> {
    const params = new URLSearchParams({ query, time: nanos(time) })
    try {
      return lokiValueOf(await this.#http.getJson('/loki/api/v1/query', params, signal))
    } catch (error) {
      if (signal.aborted) throw error
      return { ok: false, reason: error instanceof Error ? error.message : String(error), noData: false, unusable: false }
    }
  }

  async sample(q: WindowQuery, signal: AbortSignal): Promise<LokiWindowSample> {
    const window = windowDuration(q.start, q.end)
    const side = (version: string): LokiVersionWindow => ({ version, requests: null, errors: null, values: {}, queries: {}, reasons: {} })
    const canary = side(q.canaryVersion)
    const baseline = side(q.baselineVersion ?? '')
    const noData = new Set<string>()
    const tasks: (() => Promise<void>)[] = []
    const ask = (gate: GateSpec, target: LokiVersionWindow, isCanary: boolean): void => {
      const query = renderQuery(gate.query ?? '', { application: q.application, version: target.version, window })
      target.queries[gate.name] = query
      tasks.push(async () => {
        const result = await this.instant(query, q.end, signal)
        target.values[gate.name] = result.ok ? result.value : null
        if (!result.ok) {
          target.reasons[gate.name] = result.reason
          if (result.noData && isCanary) noData.add(gate.name)
        }
      })
    }
    for (const gate of q.gates) {
      if (gate.query === undefined) {
        for (const target of [canary, baseline]) {
          target.values[gate.name] = null
          target.reasons[gate.name] = `gate ${gate.name} has no query (it uses the built-in signal ${gate.signal})`
        }
        continue
      }
      ask(gate, canary, true)
      if (q.baselineVersion === null) {
        baseline.values[gate.name] = null
        baseline.reasons[gate.name] = 'there is no baseline version to compare with'
      } else {
        ask(gate, baseline, false)
      }
    }
    await pooled(tasks, this.#concurrency)
    signal.throwIfAborted()

    // Every gate without a canary value: say so once, for all of them (the loop turns it
    // into INCONCLUSIVE for each gate). Only "asked fine, nothing there" is NoDataError.
    if (q.gates.length > 0 && q.gates.every((g) => canary.values[g.name] === null)) {
      const reasons = new Set(q.gates.map((g) => canary.reasons[g.name] ?? 'no value'))
      const summary = reasons.size === 1 ? [...reasons][0]! : q.gates.map((g) => `${g.name}: ${canary.reasons[g.name] ?? 'no value'}`).join('; ')
      if (q.gates.every((g) => noData.has(g.name))) throw new NoDataError(summary)
      throw new Error(summary)
    }
    return { provider: this.kind, start: q.start, end: q.end, canaryWeight: q.canaryWeight, canary, baseline }
  }

  /**
   * Log lines matching a LogQL log query in [start, end), newest first, at most `limit`
   * (a `query_range` with `direction=backward`). Throws TelemetryHttpError on failure.
   */
  async fetchLines(selectorQuery: string, start: Date, end: Date, limit = 20, signal: AbortSignal = AbortSignal.timeout(15_000)): Promise<LogLine[]> {
    const params = new URLSearchParams({
      query: selectorQuery,
      start: nanos(start),
      end: nanos(end),
      limit: String(Math.max(1, Math.floor(limit))),
      direction: 'backward',
    })
    const body = await this.#http.getJson('/loki/api/v1/query_range', params, signal)
    const data = isRecord(body) && body.status === 'success' && isRecord(body.data) ? body.data : null
    if (data === null) throw new TelemetryHttpError('shape', "loki's answer is not a query result")
    if (data.resultType !== 'streams') {
      throw new TelemetryHttpError('shape', `loki returned a ${String(data.resultType)} for ${JSON.stringify(clip(selectorQuery, 80))}; log lines need a log query (a selector with line filters)`)
    }
    const lines: LogLine[] = []
    for (const stream of Array.isArray(data.result) ? data.result : []) {
      if (!isRecord(stream) || !Array.isArray(stream.values)) continue
      const labels: Record<string, string> = {}
      if (isRecord(stream.stream)) for (const [k, v] of Object.entries(stream.stream)) if (typeof v === 'string') labels[k] = v
      for (const entry of stream.values) {
        if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'string' || !/^\d+$/.test(entry[0])) continue
        lines.push({ time: new Date(Number(BigInt(entry[0]) / 1_000_000n)), ns: entry[0], line: entry[1], labels })
      }
    }
    lines.sort((a, b) => (BigInt(a.ns) > BigInt(b.ns) ? -1 : BigInt(a.ns) < BigInt(b.ns) ? 1 : 0))
    return lines.slice(0, limit)
  }

  /**
   * The log lines behind a gate over the window, for each version: the log query inside the
   * gate's (rendered) metric query, i.e. the numerator of a ratio such as the error lines.
   */
  async evidenceLines(
    q: WindowQuery,
    gate: GateSpec,
    limit = 10,
    signal: AbortSignal = AbortSignal.timeout(15_000),
  ): Promise<{ version: string; query: string; lines: LogLine[] }[]> {
    if (gate.query === undefined) return []
    const window = windowDuration(q.start, q.end)
    const versions = [q.canaryVersion, ...(q.baselineVersion === null ? [] : [q.baselineVersion])]
    return Promise.all(
      versions.map(async (version) => {
        const rendered = renderQuery(gate.query ?? '', { application: q.application, version, window })
        const selector = logSelectorOf(rendered)
        if (selector === null) return { version, query: rendered, lines: [] }
        // query_range's end is exclusive; the instant query counted lines at exactly q.end.
        return { version, query: selector, lines: await this.fetchLines(selector, q.start, new Date(q.end.getTime() + 1), limit, signal) }
      }),
    )
  }

  /**
   * The dry run before a rollout: renders the gate's query (version `sentra-dry-run` unless
   * given, a 60 s window) and runs it. Throws with Loki's own message when Loki refuses it
   * (a parse error, an unsupported query), or when no window could use its answer (several
   * series, a log query, not a number). No data is fine: the version does not run yet.
   */
  async checkQuery(query: string, signal: AbortSignal, vars: { application?: string; version?: string } = {}): Promise<void> {
    const problem = templateProblem(query, QUERY_TEMPLATES, false)
    if (problem !== undefined) throw new Error(`the query ${problem}`)
    const logql = renderQuery(query, { application: vars.application ?? 'sentra-dry-run', version: vars.version ?? 'sentra-dry-run', window: '60s' })
    const answer = await this.#http.get('/loki/api/v1/query', new URLSearchParams({ query: logql, time: nanos(new Date()) }), signal)
    if (answer.status < 200 || answer.status > 299) throw this.#http.httpError(answer)
    const read = lokiValueOf(this.#http.parse(answer))
    if (!read.ok && read.unusable) throw new Error(read.reason)
  }

  /** Reachable, and answering the API with our credentials: `/loki/api/v1/labels` over the last 5 minutes. */
  async ping(signal: AbortSignal): Promise<void> {
    const now = Date.now()
    const body = await this.#http.getJson('/loki/api/v1/labels', new URLSearchParams({ start: nanos(new Date(now - 300_000)), end: nanos(new Date(now)) }), signal)
    if (!isRecord(body) || body.status !== 'success') throw new TelemetryHttpError('shape', `loki at ${this.#http.origin} did not answer /loki/api/v1/labels like Loki`)
  }
}
