import type { LinkedTrace } from '../store/models.ts'

/**
 * Links from a linked trace to where people read traces (Grafana Explore, Tempo, Jaeger…).
 * Configured by SENTRA_TRACE_URL_TEMPLATE, an http(s) URL with placeholders:
 *   {{traceId}}      32-hex trace id (required)
 *   {{application}}  {{version}}  {{service}}
 *   {{startMs}} {{endMs}}  epoch milliseconds around the trace (a minute either side), for time ranges
 * Every value is URL-encoded where it is put in.
 *
 * @example
 * SENTRA_TRACE_URL_TEMPLATE='https://grafana.example/explore?left={"datasource":"tempo","queries":[{"query":"{{traceId}}"}]}'
 */

const PLACEHOLDERS = ['traceId', 'application', 'version', 'service', 'startMs', 'endMs'] as const
type Placeholder = (typeof PLACEHOLDERS)[number]
const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g
const MARGIN_MS = 60_000

/** Why a template cannot be used, or null when it can. */
export function traceUrlTemplateProblem(template: string): string | null {
  if (template.length > 2048) return 'must be at most 2048 characters'
  if (!/^https?:\/\/[^\s/]+/i.test(template)) return 'must be an http:// or https:// URL'
  if (/\s/.test(template)) return 'must not contain spaces'
  const names = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!)
  if (!names.includes('traceId')) return 'must contain {{traceId}}'
  const unknown = names.find((n) => !(PLACEHOLDERS as readonly string[]).includes(n))
  if (unknown !== undefined) return `unknown placeholder {{${unknown}}}; use ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`
  return null
}

/** The trace's link; null when no template is configured. */
export function traceUrl(template: string | null | undefined, trace: LinkedTrace): string | null {
  if (!template) return null
  const start = trace.at.getTime()
  const values: Record<Placeholder, string> = {
    traceId: trace.traceId,
    application: trace.application,
    version: trace.version,
    service: trace.service,
    startMs: String(Math.floor(start - MARGIN_MS)),
    endMs: String(Math.ceil(start + trace.durationMs + MARGIN_MS)),
  }
  return template.replace(PLACEHOLDER, (whole, name: string) =>
    name in values ? encodeURIComponent(values[name as Placeholder]) : whole,
  )
}
