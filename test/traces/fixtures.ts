import { randomBytes } from 'node:crypto'
import type { LinkedSpan, NewLinkedTrace } from '../../schema/store/index.ts'

/** Builders for linked traces in tests: random valid ids, sensible defaults. */

export function traceId(): string {
  return randomBytes(16).toString('hex')
}

export function spanId(): string {
  return randomBytes(8).toString('hex')
}

export function span(overrides: Partial<LinkedSpan> = {}): LinkedSpan {
  return {
    spanId: spanId(),
    parentSpanId: null,
    name: 'GET /',
    service: 'demo',
    startMs: Date.parse('2026-02-03T04:05:06.000Z'),
    durationMs: 10,
    status: 'ok',
    kind: 'server',
    attributes: {},
    ...overrides,
  }
}

/** A trace of `spanCount` spans (a root and its children), error when `error`. */
export function newTrace(rolloutId: string, overrides: Partial<NewLinkedTrace> = {}, spanCount = 2): NewLinkedTrace {
  const at = overrides.at ?? new Date('2026-02-03T04:05:06.000Z')
  const root = span({ startMs: at.getTime(), durationMs: overrides.durationMs ?? 100, name: overrides.rootName ?? 'GET /checkout', status: overrides.error ? 'error' : 'ok' })
  const children = Array.from({ length: Math.max(0, spanCount - 1) }, (_, i) =>
    span({ parentSpanId: root.spanId, startMs: at.getTime() + 1 + i, durationMs: 5, name: `child ${i}`, kind: 'client', service: 'db' }),
  )
  return {
    rolloutId,
    stepIndex: 1,
    traceId: traceId(),
    version: 'v2',
    status: overrides.error ? 'error' : 'ok',
    durationMs: 100,
    rootName: 'GET /checkout',
    at,
    application: 'demo',
    service: 'demo',
    error: false,
    source: 'otlp',
    spans: [root, ...children],
    ...overrides,
  }
}
