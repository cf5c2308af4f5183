/**
 * Label and field selectors as the API server parses them (apimachinery `labels.Parse`,
 * `fields.ParseSelector`): `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`,
 * joined by commas; field selectors support `metadata.name` and `metadata.namespace`.
 */
import { badRequest } from './kubernetes-status.ts'
import { isObject, type JsonObject } from './kubernetes-validate.ts'

export type Matcher = (object: JsonObject) => boolean

function labelsOf(object: JsonObject): Record<string, string> {
  const metadata = isObject(object.metadata) ? object.metadata : {}
  const labels = isObject(metadata.labels) ? metadata.labels : {}
  return Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'))
}

/** Splits on commas outside parentheses. */
function terms(raw: string): string[] {
  const out: string[] = []
  let depth = 0
  let current = ''
  for (const char of raw) {
    if (char === '(') depth++
    if (char === ')') depth--
    if (char === ',' && depth === 0) {
      out.push(current.trim())
      current = ''
    } else current += char
  }
  if (current.trim() !== '') out.push(current.trim())
  return out
}

export function parseLabelSelector(raw: string | null): Matcher {
  if (raw === null || raw.trim() === '') return () => true
  const checks = terms(raw).map((term): ((labels: Record<string, string>) => boolean) => {
    let match = /^([A-Za-z0-9./_-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term)
    if (match) {
      const [, key, op, list] = match as unknown as [string, string, string, string]
      const values = new Set(list.split(',').map((v) => v.trim()))
      return op === 'in' ? (l) => l[key] !== undefined && values.has(l[key]) : (l) => l[key] === undefined || !values.has(l[key])
    }
    match = /^([A-Za-z0-9./_-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)$/.exec(term)
    if (match) {
      const [, key, op, value] = match as unknown as [string, string, string, string]
      return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value
    }
    match = /^(!?)([A-Za-z0-9./_-]+)$/.exec(term)
    if (match) {
      const [, not, key] = match as unknown as [string, string, string]
      return not === '!' ? (l) => l[key] === undefined : (l) => l[key] !== undefined
    }
    throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`)
  })
  return (object) => {
    const labels = labelsOf(object)
    return checks.every((check) => check(labels))
  }
}

export function parseFieldSelector(raw: string | null): Matcher {
  if (raw === null || raw.trim() === '') return () => true
  const checks = terms(raw).map((term): Matcher => {
    const match = /^(metadata\.name|metadata\.namespace)\s*(==|=|!=)\s*(.*)$/.exec(term)
    if (!match) throw badRequest(`"${term.split(/[=!]/)[0]}" is not a known field selector: only "metadata.name", "metadata.namespace"`)
    const [, field, op, value] = match as unknown as [string, string, string, string]
    const key = field === 'metadata.name' ? 'name' : 'namespace'
    return (object) => {
      const metadata = isObject(object.metadata) ? object.metadata : {}
      return op === '!=' ? metadata[key] !== value : metadata[key] === value
    }
  })
  return (object) => checks.every((check) => check(object))
}
