/** Test data for the Tempo stand-in: a version's traces with a given share of error traces. */
import type { TempoStandin } from './tempo.ts'

export interface VersionTraces {
  application: string
  version: string
  /** Traces start evenly over [from, to). */
  from: Date
  to: Date
  traces: number
  /** Share of error traces, 0..1, spread evenly (deterministic). */
  errorRatio: number
  /** Root span duration of trace i. */
  durationMs: (i: number, error: boolean) => number
}

export interface PushedTraces {
  ids: string[]
  errorIds: string[]
  /** Root span durations by trace ID. */
  durations: Map<string, number>
}

/**
 * Each trace: a server root span `GET /checkout` of `service.name = application`,
 * `service.version = version` (status error and http.status_code 500 for error traces), and
 * a client child span `SELECT orders` of a fifth of its duration.
 */
export function pushVersionTraces(tempo: TempoStandin, t: VersionTraces): PushedTraces {
  const out: PushedTraces = { ids: [], errorIds: [], durations: new Map() }
  const span = t.to.getTime() - t.from.getTime()
  for (let i = 0; i < t.traces; i++) {
    const error = Math.floor((i + 1) * t.errorRatio) > Math.floor(i * t.errorRatio)
    const start = t.from.getTime() + (span * i) / t.traces
    const duration = t.durationMs(i, error)
    const rootId = (i + 1).toString(16).padStart(16, 'a')
    const id = tempo.push({
      resource: { 'service.name': t.application, 'service.version': t.version },
      spans: [
        {
          spanId: rootId,
          name: 'GET /checkout',
          kind: 'server',
          start,
          durationMs: duration,
          status: error ? 'error' : 'unset',
          ...(error ? { statusMessage: 'upstream failed' } : {}),
          attributes: { 'http.method': 'GET', 'http.status_code': error ? 500 : 200 },
        },
        { parentSpanId: rootId, name: 'SELECT orders', kind: 'client', start: start + 1, durationMs: duration / 5, attributes: { 'db.system': 'postgresql' } },
      ],
    })
    out.ids.push(id)
    if (error) out.errorIds.push(id)
    out.durations.set(id, duration)
  }
  return out
}
