/** Turning untrusted input (YAML/JSON text or an object) into plain data, defensively. */
import { types } from 'node:util'
import { MAX_DEPTH } from './limits.ts'
import { formatPath } from './path.ts'
import { fail, parseText, type ReadResult } from './text.ts'
import type { SpecIssue } from './types.ts'

const MAX_NODES = 50_000
const MAX_ISSUES = 20
/** Keys that could reach Object.prototype in careless consumers. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/** Parses text or accepts an object, and returns a deep copy made only of plain data. */
export function readSpecInput(input: unknown): ReadResult {
  let value: unknown = input
  if (typeof input === 'string') {
    const parsed = parseText(input)
    if (!parsed.ok) return parsed
    value = parsed.value
  }
  if (value === null || value === undefined) return fail('is empty; expected an application spec with name, target and strategy')
  if (typeof value !== 'object' || Array.isArray(value)) {
    return fail(`must be a mapping (an application spec with name, target and strategy), not ${describeValue(value)}`)
  }
  return toPlainData(value)
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  switch (typeof value) {
    case 'string':
      return value.length > 40 ? `the text "${value.slice(0, 37)}..."` : `the text "${value}"`
    case 'number':
      return `the number ${value}`
    case 'boolean':
      return String(value)
    case 'object':
      return 'a mapping'
    case 'undefined':
      return 'nothing'
    default:
      return `a ${typeof value}`
  }
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Deep copy of plain JSON-like data; rejects anything else with the path where it was found. */
function toPlainData(root: object): ReadResult {
  const issues: SpecIssue[] = []
  let nodes = 0
  const issue = (path: readonly PropertyKey[], message: string): void => {
    if (issues.length < MAX_ISSUES) issues.push({ path: formatPath(path), message })
  }

  const copy = (value: unknown, path: PropertyKey[], depth: number): unknown => {
    if (++nodes > MAX_NODES) {
      if (nodes === MAX_NODES + 1) issue([], `has too many values (more than ${MAX_NODES})`)
      return undefined
    }
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value
      case 'number':
        if (!Number.isFinite(value)) issue(path, `must be a finite number (got ${value})`)
        return value
      case 'object':
        break
      default:
        issue(path, `must be plain data (got ${describeValue(value)})`)
        return undefined
    }
    if (value === null) return null
    if (depth >= MAX_DEPTH) {
      issue(path, `is nested too deeply (more than ${MAX_DEPTH} levels)`)
      return undefined
    }
    if (types.isProxy(value)) {
      issue(path, 'must be plain data (got a Proxy)')
      return undefined
    }
    if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== Array.prototype) {
        issue(path, 'must be plain data (got a list subclass)')
        return undefined
      }
      const out: unknown[] = []
      for (let i = 0; i < value.length; i++) {
        const descriptor = Object.getOwnPropertyDescriptor(value, i)
        if (!descriptor || !('value' in descriptor)) {
          issue([...path, i], 'must be plain data (a missing or computed list item)')
          continue
        }
        out.push(copy(descriptor.value, [...path, i], depth + 1))
      }
      return out
    }
    if (!isPlainObject(value)) {
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name
      issue(path, `must be plain data (got ${typeof name === 'string' && name !== '' ? `a ${name}` : 'an object with a prototype'})`)
      return undefined
    }
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) {
      if (RESERVED_KEYS.has(key)) {
        issue([...path, key], `is a reserved name and is not allowed`)
        continue
      }
      const descriptor = Object.getOwnPropertyDescriptor(value, key)
      if (!descriptor || !('value' in descriptor)) {
        issue([...path, key], 'must be plain data (got a computed property)')
        continue
      }
      if (descriptor.value === undefined) continue // absent, as in JSON
      out[key] = copy(descriptor.value, [...path, key], depth + 1)
    }
    return out
  }

  try {
    const value = copy(root, [], 0)
    return issues.length > 0 ? { ok: false, issues } : { ok: true, value }
  } catch (error) {
    return fail(`could not be read: ${error instanceof Error ? error.message : String(error)}`)
  }
}
