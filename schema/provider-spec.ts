import * as z from 'zod'
import type { SpecIssue } from './spec/types.ts'
import { readSpecInput } from './spec/input.ts'
import { formatPath } from './spec/path.ts'
import { parseDuration } from './spec/duration.ts'
import { dnsName, duration, enumOf, errorMap, obj, text } from './spec/fields.ts'
import { PROVIDERS } from './spec/limits.ts'

/**
 * A telemetry provider declared once (admin) and used by every gate of its kind: where it
 * is, how to authenticate, how long to wait. Gates name the kind (`provider: prometheus`)
 * and, when several of a kind exist, the provider's name (`source: prod-prometheus`).
 *
 * @example
 * { name: prometheus, kind: prometheus, url: "http://127.0.0.1:9090", timeout: 10s }
 */
export interface ProviderSpec {
  name: string
  kind: (typeof PROVIDERS)[number]
  url: string
  bearerToken?: string
  basicAuth?: { username: string; password: string }
  headers: Record<string, string>
  /** Loki and Tempo multi-tenancy: sent as X-Scope-OrgID. */
  tenant?: string
  timeout: string
  timeoutMs: number
}

const MAX_HEADERS = 20
// Headers a provider config must not set: they belong to the HTTP client or to auth fields.
const RESERVED_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'authorization', 'x-scope-orgid'])
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/

const url = text(2048).check((ctx) => {
  let parsed: URL
  try {
    parsed = new URL(ctx.value)
  } catch {
    ctx.issues.push({ code: 'custom', message: 'must be an http:// or https:// URL, e.g. "http://127.0.0.1:9090"', input: ctx.value })
    return
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    ctx.issues.push({ code: 'custom', message: `must be http:// or https:// (got ${parsed.protocol})`, input: ctx.value })
  } else if (parsed.username || parsed.password) {
    ctx.issues.push({ code: 'custom', message: 'must not carry credentials; use bearerToken or basicAuth', input: ctx.value })
  } else if (parsed.search || parsed.hash) {
    ctx.issues.push({ code: 'custom', message: 'must not have a query string or fragment', input: ctx.value })
  }
})

const headers = z.record(z.string(), text(1024)).check((ctx) => {
  const names = Object.keys(ctx.value)
  if (names.length > MAX_HEADERS) ctx.issues.push({ code: 'custom', message: `at most ${MAX_HEADERS} headers`, input: ctx.value })
  for (const name of names) {
    if (!HEADER_NAME.test(name)) ctx.issues.push({ code: 'custom', message: 'is not a valid HTTP header name', path: [name], input: name })
    else if (RESERVED_HEADERS.has(name.toLowerCase())) ctx.issues.push({ code: 'custom', message: 'is set by Sentra itself (use bearerToken, basicAuth or tenant)', path: [name], input: name })
    else if (/[\r\n]/.test(ctx.value[name] ?? '')) ctx.issues.push({ code: 'custom', message: 'must not contain line breaks', path: [name], input: name })
  }
})

const providerSchema = obj(
  {
    name: dnsName('label'),
    kind: enumOf(PROVIDERS, 'one of'),
    url,
    bearerToken: text(4096).optional(),
    basicAuth: obj({ username: text(256), password: text(1024) }).optional(),
    headers: headers.optional(),
    tenant: text(256).optional(),
    timeout: duration({ minMs: 100, maxMs: 60_000 }).optional(),
    timeoutMs: z.number().optional(),
  },
  { derived: { timeoutMs: 'timeout' } },
)

export type ParseProviderResult = { ok: true; provider: ProviderSpec } | { ok: false; issues: SpecIssue[] }

/** Validates a provider declaration (YAML or JSON text, or an object), naming each bad field. */
export function parseProviderSpec(input: unknown): ParseProviderResult {
  const read = readSpecInput(input)
  if (!read.ok) return { ok: false, issues: read.issues }
  const parsed = providerSchema.safeParse(read.value, { error: errorMap })
  if (!parsed.success) return { ok: false, issues: parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) }
  const value = parsed.data
  if (value.bearerToken !== undefined && value.basicAuth !== undefined) {
    return { ok: false, issues: [{ path: 'basicAuth', message: 'cannot be used together with bearerToken; choose one' }] }
  }
  const timeout = value.timeout ?? '10s'
  return {
    ok: true,
    provider: {
      name: value.name,
      kind: value.kind,
      url: value.url.replace(/\/+$/, ''),
      ...(value.bearerToken !== undefined ? { bearerToken: value.bearerToken } : {}),
      ...(value.basicAuth !== undefined ? { basicAuth: value.basicAuth } : {}),
      headers: value.headers ?? {},
      ...(value.tenant !== undefined ? { tenant: value.tenant } : {}),
      timeout,
      timeoutMs: parseDuration(timeout),
    },
  }
}
