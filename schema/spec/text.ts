/** Parsing spec text: size limit, JSON (with line/column for errors) and YAML (no aliases bombs). */
import { parseDocument } from 'yaml'
import { MAX_DEPTH, MAX_SPEC_BYTES, MAX_YAML_ALIASES } from './limits.ts'
import type { SpecIssue } from './types.ts'

export type ReadResult = { ok: true; value: unknown } | { ok: false; issues: SpecIssue[] }

export const fail = (message: string, path = ''): ReadResult => ({ ok: false, issues: [{ path, message }] })

function kib(bytes: number): string {
  return `${Math.ceil(bytes / 1024)} KiB`
}

/** YAML or JSON text to plain data; `maxBytes` is one spec's limit unless a caller reads several. */
export function parseText(text: string, maxBytes: number = MAX_SPEC_BYTES): ReadResult {
  // Cheap length test first: UTF-8 never takes fewer bytes than UTF-16 code units.
  if (text.length > maxBytes || Buffer.byteLength(text, 'utf8') > maxBytes) {
    const size = text.length > 4 * maxBytes ? text.length : Buffer.byteLength(text, 'utf8')
    return fail(`is too large (${kib(size)}); the limit is ${kib(maxBytes)}`)
  }
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  const first = /\S/.exec(source)
  if (!first) return fail('is empty; expected an application spec with name, target and strategy')
  return first[0] === '{' || first[0] === '[' ? parseJson(source) : parseYaml(source)
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1
  let lineStart = 0
  const end = Math.min(Math.max(offset, 0), text.length)
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  return { line, column: end - lineStart + 1 }
}

function parseJson(text: string): ReadResult {
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch (error) {
    const raw = error instanceof Error ? error.message : String(error)
    const positioned = / in JSON at position (\d+)/.exec(raw)
    const offset = positioned ? Number(positioned[1]) : jsonErrorOffset(text)
    const reason = raw
      .replace(/ in JSON at position \d+.*$/s, '')
      .replace(/, ".*" is not valid JSON$/s, '')
      .replace(/ of JSON input$/, '')
    const { line, column } = lineColumn(text, offset)
    return fail(`is not valid JSON: ${reason} at line ${line}, column ${column}`)
  }
}

/**
 * Offset of the first JSON syntax error in `text` (text.length when it ends early). Used only
 * after JSON.parse has failed, to give a line and column when V8's message has none.
 * Iterative, so deep nesting cannot overflow the stack.
 */
export function jsonErrorOffset(text: string): number {
  const stack: string[] = []
  let i = 0
  const skip = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++
  }
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
  const string = (): boolean => {
    if (text[i] !== '"') return false
    i++
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === 34) {
        i++
        return true
      }
      if (c < 0x20) return false
      if (c === 92) {
        const e = text[i + 1]
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return false
          i += 6
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2
        else return false
      } else i++
    }
    return false
  }
  // mode: expecting a value, or what may follow a value.
  let expectValue = true
  for (;;) {
    skip()
    if (i >= text.length) return expectValue || stack.length > 0 ? text.length : -1
    if (expectValue) {
      const c = text[i]
      if (c === '{' || c === '[') {
        stack.push(c)
        i++
        skip()
        if (text[i] === (c === '{' ? '}' : ']')) {
          stack.pop()
          i++
          expectValue = false
          continue
        }
        if (c === '{') {
          if (!string()) return i
          skip()
          if (text[i] !== ':') return i
          i++
        }
        continue
      }
      if (c === '"') {
        if (!string()) return i
      } else if (text.startsWith('true', i)) i += 4
      else if (text.startsWith('false', i)) i += 5
      else if (text.startsWith('null', i)) i += 4
      else {
        NUMBER.lastIndex = i
        const m = NUMBER.exec(text)
        if (!m) return i
        i += m[0].length
      }
      expectValue = false
      continue
    }
    const top = stack[stack.length - 1]
    if (top === undefined) return i // trailing content
    const c = text[i]
    if (c === (top === '{' ? '}' : ']')) {
      stack.pop()
      i++
      continue
    }
    if (c !== ',') return i
    i++
    skip()
    if (top === '{') {
      if (!string()) return i
      skip()
      if (text[i] !== ':') return i
      i++
    }
    expectValue = true
  }
}

/** Deepest `[`/`{` nesting in the text, counting brackets inside quotes too (an upper bound). */
function flowDepth(text: string): number {
  let depth = 0
  let max = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 91 || c === 123) max = Math.max(max, ++depth)
    else if ((c === 93 || c === 125) && depth > 0) depth--
  }
  return max
}

function parseYaml(text: string): ReadResult {
  // The YAML composer recurses per level; refuse absurd flow nesting before it can overflow.
  if (flowDepth(text) > 4 * MAX_DEPTH) return fail(`is nested too deeply (more than ${MAX_DEPTH} levels)`)
  try {
    const doc = parseDocument(text, {
      schema: 'core',
      uniqueKeys: true,
      merge: false,
      strict: true,
      prettyErrors: true,
      logLevel: 'error',
    })
    const problem = doc.errors[0] ?? doc.warnings[0]
    if (problem) {
      const where = problem.linePos?.[0]
      const reason =
        problem.code === 'MULTIPLE_DOCS'
          ? 'it contains more than one document (---); give one application per document'
          : (problem.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')
      const at = where ? ` at line ${where.line}, column ${where.col}` : ''
      return fail(`is not valid YAML: ${reason}${at}`)
    }
    if (doc.contents === null) return fail('is empty; expected an application spec with name, target and strategy')
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) as unknown }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    if (error instanceof RangeError && /call stack/i.test(message)) return fail('is nested too deeply')
    if (/alias/i.test(message)) {
      return fail(/excessive/i.test(message)
        ? `expands too many YAML aliases (more than ${MAX_YAML_ALIASES}); write the values out or use fewer *references`
        : `is not valid YAML: ${message}`)
    }
    return fail(`is not valid YAML: ${message}`)
  }
}

