/** Field-level rules shared by the zod schemas: names, addresses, templates, durations. */
import { isIPv4, isIPv6 } from 'node:net'
import { DurationError, formatDuration, parseDuration } from './duration.ts'
import { didYouMean } from './path.ts'

/** Templates a target's command, env values and cwd may use. */
export const TARGET_TEMPLATES = ['version', 'port'] as const
/** Templates a provider query may use; `{{version}}` is required. */
export const QUERY_TEMPLATES = ['version', 'window', 'application', 'namespace', 'interval'] as const

export type DnsRule = 'label' | 'rfc1123-label' | 'subdomain'

/**
 * What is wrong with a DNS name, or undefined when it is fine.
 * - `label`: lowercase letters, digits and '-', starts with a letter, ends alphanumeric, <= 63.
 * - `rfc1123-label`: as `label` but may start with a digit (Kubernetes namespaces).
 * - `subdomain`: rfc1123 labels joined by '.', <= 253 (Kubernetes object names).
 */
export function dnsNameProblem(value: string, rule: DnsRule): string | undefined {
  const max = rule === 'subdomain' ? 253 : 63
  if (value.length === 0) return 'must not be empty'
  if (value.length > max) return `must be at most ${max} characters (got ${value.length})`
  const allowed = rule === 'subdomain' ? /^[a-z0-9.-]+$/ : /^[a-z0-9-]+$/
  const what = rule === 'subdomain' ? "lowercase letters, digits, '-' and '.'" : "lowercase letters, digits and '-'"
  if (!allowed.test(value)) {
    const lower = value.toLowerCase()
    if (lower !== value && allowed.test(lower) && dnsNameProblem(lower, rule) === undefined) {
      return `must be lowercase (try "${lower}")`
    }
    const bad = [...value].find((c) => !allowed.test(c)) ?? ''
    return `may only contain ${what} (found ${JSON.stringify(bad)})`
  }
  const labels = rule === 'subdomain' ? value.split('.') : [value]
  for (const label of labels) {
    if (label.length === 0) return "must not have empty parts between '.'"
    if (label.length > 63) return `must have parts of at most 63 characters between '.'`
    if (rule === 'label' && !/^[a-z]/.test(label)) return 'must start with a lowercase letter'
    if (!/^[a-z0-9]/.test(label)) return 'must start with a lowercase letter or digit'
    if (!/[a-z0-9]$/.test(label)) return 'must end with a lowercase letter or digit'
  }
  return undefined
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

/** Splits `host:port` / `[v6]:port`; undefined when it is not of that shape (see {@link listenProblem}). */
export function parseListen(value: string): { host: string; port: number } | undefined {
  return listenProblem(value) === undefined ? splitListen(value) : undefined
}

function splitListen(value: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(value)
  if (bracketed) return { host: bracketed[1] ?? '', port: Number(bracketed[2]) }
  const colon = value.lastIndexOf(':')
  return { host: value.slice(0, colon), port: Number(value.slice(colon + 1)) }
}

/** What is wrong with a `host:port` listen address, or undefined. */
export function listenProblem(value: string): string | undefined {
  const example = 'e.g. "127.0.0.1:8080"'
  let host: string
  let portText: string
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(value)
  if (bracketed) {
    host = bracketed[1] ?? ''
    portText = bracketed[2] ?? ''
    if (!isIPv6(host)) return `has an invalid IPv6 address "${host}"`
  } else {
    const colon = value.lastIndexOf(':')
    if (colon < 0) return /^\d+$/.test(value) ? `must include a host (try "127.0.0.1:${value}")` : `must be host:port, ${example}`
    host = value.slice(0, colon)
    portText = value.slice(colon + 1)
    if (host === '') return `must include a host (try "127.0.0.1${value}")`
    if (host.includes(':')) {
      return isIPv6(host) ? `must put an IPv6 address in brackets (try "[${host}]:${portText}")` : `must be host:port, ${example}`
    }
    const looksNumeric = /^[\d.]+$/.test(host)
    if (looksNumeric ? !isIPv4(host) : !HOSTNAME.test(host)) {
      return `has an invalid host "${host}"; use an IP address or a hostname such as localhost`
    }
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return `has an invalid port "${portText}"; it must be between 1 and 65535`
  }
  return undefined
}

const GO_TEMPLATE_WORDS = new Set(['end', 'else', 'if', 'range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil', 'true', 'false'])

/**
 * What is wrong with the `{{...}}` templates in `value`, or undefined.
 * In `strict` mode every `{{...}}` must be one of `allowed`. Otherwise (provider queries,
 * where LogQL's `line_format "{{.msg}}"` is legitimate) only bare words are checked.
 */
export function templateProblem(value: string, allowed: readonly string[], strict: boolean): string | undefined {
  const available = allowed.map((name) => `{{${name}}}`).join(', ')
  const TOKEN = /\{\{(.*?)\}\}/gs
  for (const match of value.matchAll(TOKEN)) {
    const inner = match[1] ?? ''
    if (allowed.includes(inner)) continue
    const word = inner.trim()
    const bare = /^[A-Za-z_][A-Za-z0-9_]*$/.test(word)
    if (!strict && (!bare || GO_TEMPLATE_WORDS.has(word) || (word !== inner && !allowed.includes(word)))) continue
    const near = bare ? didYouMean(word, allowed) : undefined
    const hint = near !== undefined ? `; did you mean {{${near}}}?` : `; available: ${available}`
    return `uses an unknown template "${match[0].length > 40 ? `${match[0].slice(0, 37)}...` : match[0]}"${hint}`
  }
  if (strict) {
    const withoutTokens = value.replace(TOKEN, '')
    if (withoutTokens.includes('{{')) return `has an unclosed "{{"; templates are written like {{version}}`
  }
  return undefined
}

/** What is wrong with a Docker image reference, or undefined. */
export function imageProblem(value: string): string | undefined {
  if (/\s/.test(value)) return 'must not contain spaces'
  const template = templateProblem(value, ['version'], true)
  if (template !== undefined) return template
  if (value.includes('{{version}}')) return undefined
  const tail = value.slice(value.lastIndexOf('/') + 1)
  if (!tail.includes(':') && !value.includes('@')) return `must contain {{version}} or a tag (try "${value}:{{version}}")`
  return undefined
}

/** What is wrong with an HTTP path such as `/healthz`, or undefined. */
export function httpPathProblem(value: string): string | undefined {
  if (!value.startsWith('/')) return `must start with "/" (try "/${value}")`
  if (/[\s#]/.test(value) || /[^\x21-\x7e]/.test(value)) return 'must be a URL path without spaces, "#" or non-ASCII characters'
  return undefined
}

/** Milliseconds, or the message of why `text` is not an acceptable duration. */
export function checkDuration(
  text: string,
  bounds: { minMs?: number; maxMs?: number; positive?: boolean },
): { ms: number } | { problem: string } {
  let ms: number
  try {
    ms = parseDuration(text)
  } catch (error) {
    if (error instanceof DurationError) return { problem: error.message }
    throw error
  }
  const { minMs, maxMs, positive } = bounds
  if (minMs !== undefined && maxMs !== undefined && (ms < minMs || ms > maxMs)) {
    return { problem: `must be between ${formatDuration(minMs)} and ${formatDuration(maxMs)} (got "${text}")` }
  }
  if (minMs !== undefined && ms < minMs) return { problem: `must be at least ${formatDuration(minMs)} (got "${text}")` }
  if (maxMs !== undefined && ms > maxMs) return { problem: `must be at most ${formatDuration(maxMs)} (got "${text}")` }
  if (positive === true && ms === 0) return { problem: 'must be longer than 0s' }
  return { ms }
}

/** Environment variable names: letters, digits and '_', not starting with a digit. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
