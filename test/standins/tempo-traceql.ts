/**
 * The TraceQL subset the Tempo stand-in evaluates, honestly, and nothing more: one spanset
 * filter `{ cond && cond && ... }` (or `{}` / `{ true }` for every span), where a trace matches
 * when at least one of its spans meets every condition. A condition is `field op value`:
 *
 * - fields: `resource.<name>` (the span's resource attribute), `span.<name>` (the span's
 *   attribute), `.<name>` (span attribute, else resource attribute), and the intrinsics
 *   `status` (error | ok | unset), `duration` (the span's), `name`, `kind`
 *   (server | client | producer | consumer | internal | unspecified), `statusMessage`;
 * - operators `=`, `!=`, `>`, `>=`, `<`, `<=`, `=~`, `!~` (regexes fully anchored, as in Tempo);
 * - values: "strings" (or `raw`), integers, floats, durations (`500ms`, `1.5s`, `2m`), true/false,
 *   and the status and kind keywords. A missing attribute or a value of another type never
 *   matches (so `span.x != "a"` does not match spans without `x`), as in Tempo.
 *
 * Refused with a parse error naming the gap: `||`, several spansets (`{…} && {…}`, `>>`, `~`),
 * pipelines (`| count() > 2`, `| select(…)`, `by(…)`), scoped intrinsics (`span:status`,
 * `trace:duration`), `event.`, `link.`, `instrumentation.`, `parent.`, parentheses.
 */

export type AttrValue = string | number | boolean

export class TraceqlParseError extends Error {
  override readonly name = 'TraceqlParseError'
}

type Kind = 'server' | 'client' | 'producer' | 'consumer' | 'internal' | 'unspecified'
export type SpanStatus = 'error' | 'ok' | 'unset'

/** What a condition can read from a span. */
export interface SpanView {
  name: string
  kind: Kind
  status: SpanStatus
  statusMessage: string
  durationNs: bigint
  attributes: Readonly<Record<string, AttrValue>>
  resource: Readonly<Record<string, AttrValue>>
}

export type Field =
  | { scope: 'resource' | 'span' | 'any'; name: string }
  | { scope: 'intrinsic'; name: 'status' | 'duration' | 'name' | 'kind' | 'statusMessage' }

export type Literal =
  | { type: 'string'; value: string }
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'duration'; ns: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'status'; value: SpanStatus }
  | { type: 'kind'; value: Kind }

export type Op = '=' | '!=' | '>' | '>=' | '<' | '<=' | '=~' | '!~'

export interface Condition {
  field: Field
  op: Op
  value: Literal
  re?: RegExp
}

export interface SpansetFilter {
  conditions: Condition[]
}

const STATUSES = new Set(['error', 'ok', 'unset'])
const KINDS = new Set(['server', 'client', 'producer', 'consumer', 'internal', 'unspecified'])
const INTRINSICS = new Set(['status', 'duration', 'name', 'kind', 'statusMessage'])
const UNSUPPORTED_INTRINSICS = new Set(['rootName', 'rootServiceName', 'traceDuration', 'nestedSetLeft', 'nestedSetRight', 'nestedSetParent', 'childCount', 'id', 'parent'])
const DURATION_NS: Record<string, bigint> = { ns: 1n, us: 1_000n, µs: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n }

function position(query: string, at: number): string {
  const before = query.slice(0, at)
  return `line ${before.split('\n').length}, col ${at - (before.lastIndexOf('\n') + 1) + 1}`
}

/** Nanoseconds in a Go duration (`1.5s`, `200ms`, `1h2m`); null if it is not one. */
export function parseGoDurationNs(text: string): bigint | null {
  if (!/^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.test(text)) return null
  let total = 0
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * Number(DURATION_NS[m[2] ?? 's'] ?? 0n)
  return BigInt(Math.round(total))
}

class Parser {
  readonly #q: string
  #i = 0

  constructor(query: string) {
    this.#q = query
  }

  #error(at: number, message: string): TraceqlParseError {
    return new TraceqlParseError(`parse error at ${position(this.#q, at)}: ${message}`)
  }

  #unsupported(at: number, what: string): TraceqlParseError {
    return this.#error(at, `not supported by the Sentra Tempo stand-in: ${what}`)
  }

  #skip(): void {
    while (this.#i < this.#q.length && /\s/.test(this.#q[this.#i] ?? '')) this.#i += 1
  }

  #peek(n = 1): string {
    this.#skip()
    return this.#q.slice(this.#i, this.#i + n)
  }

  #describeHere(): string {
    this.#skip()
    if (this.#i >= this.#q.length) return '$end'
    const rest = this.#q.slice(this.#i)
    if (/^[A-Za-z_]/.test(rest)) return 'IDENTIFIER'
    if (/^\d/.test(rest)) return 'INTEGER'
    if (/^["`]/.test(rest)) return 'STRING'
    return rest.slice(0, /^(&&|\|\||!=|>=|<=|=~|!~|>>)/.test(rest) ? 2 : 1)
  }

  #syntax(): TraceqlParseError {
    return this.#error(this.#i, `syntax error: unexpected ${this.#describeHere()}`)
  }

  parse(): SpansetFilter {
    this.#skip()
    if (this.#q.slice(this.#i).trim() === '') throw this.#syntax()
    if (this.#peek() === '!' && this.#peek(2) === '!{') throw this.#unsupported(this.#i, 'negated spansets')
    if (this.#peek() !== '{') {
      if (this.#peek() === '(') throw this.#unsupported(this.#i, 'parentheses')
      throw this.#syntax()
    }
    this.#i += 1
    const conditions: Condition[] = []
    if (this.#peek() !== '}') {
      if (/^true\b/.test(this.#q.slice(this.#i)) && /^true\s*\}/.test(this.#q.slice(this.#i))) {
        this.#i += 4
      } else {
        conditions.push(this.#condition())
        for (;;) {
          const next = this.#peek(2)
          if (next === '&&') {
            this.#i += 2
            conditions.push(this.#condition())
            continue
          }
          if (next === '||') throw this.#unsupported(this.#i, '|| inside a spanset')
          break
        }
      }
    }
    if (this.#peek() !== '}') throw this.#syntax()
    this.#i += 1
    this.#skip()
    if (this.#i < this.#q.length) {
      const rest = this.#q.slice(this.#i)
      if (rest.startsWith('|')) throw this.#unsupported(this.#i, 'pipelines (| count(), | select(), by(), ...)')
      if (/^(&&|\|\||>>|<<|~|!>>|!<<|!~|>|<)/.test(rest)) throw this.#unsupported(this.#i, 'operations between spansets')
      throw this.#syntax()
    }
    return { conditions }
  }

  /** Just a field (a scoped attribute or an intrinsic), e.g. for tag-value lookups. */
  fieldOnly(): Field {
    const field = this.#field()
    this.#skip()
    if (this.#i < this.#q.length) throw this.#syntax()
    return field
  }

  #field(): Field {
    this.#skip()
    const at = this.#i
    const rest = this.#q.slice(this.#i)
    if (rest.startsWith('(')) throw this.#unsupported(at, 'parentheses')
    const scoped = /^(resource|span|event|link|instrumentation|parent)?\.([A-Za-z0-9_][A-Za-z0-9_.\-/]*)/.exec(rest)
    if (scoped && (scoped[1] !== undefined || rest.startsWith('.'))) {
      const scope = scoped[1]
      if (scope === 'event' || scope === 'link' || scope === 'instrumentation' || scope === 'parent') throw this.#unsupported(at, `${scope}. attributes`)
      this.#i += scoped[0].length
      // A trailing '.' belongs to no name.
      const name = (scoped[2] ?? '').replace(/\.+$/, '')
      return { scope: scope === 'resource' ? 'resource' : scope === 'span' ? 'span' : 'any', name }
    }
    const colon = /^(span|trace|resource|event|link|instrumentation):[A-Za-z]+/.exec(rest)
    if (colon) throw this.#unsupported(at, `scoped intrinsics (${colon[0]})`)
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest)
    if (ident) {
      if (INTRINSICS.has(ident[0])) {
        this.#i += ident[0].length
        return { scope: 'intrinsic', name: ident[0] as 'status' | 'duration' | 'name' | 'kind' | 'statusMessage' }
      }
      if (UNSUPPORTED_INTRINSICS.has(ident[0])) throw this.#unsupported(at, `the intrinsic ${ident[0]}`)
    }
    throw this.#syntax()
  }

  #op(): Op {
    this.#skip()
    const rest = this.#q.slice(this.#i)
    const op = /^(!=|>=|<=|=~|!~|=|>|<)/.exec(rest)
    if (!op) throw this.#syntax()
    this.#i += op[0].length
    return op[0] as Op
  }

  #string(): string {
    const at = this.#i
    const quote = this.#q[this.#i]
    if (quote === '`') {
      const end = this.#q.indexOf('`', at + 1)
      if (end < 0) throw this.#error(at, 'literal not terminated')
      this.#i = end + 1
      return this.#q.slice(at + 1, end)
    }
    let value = ''
    let i = at + 1
    while (i < this.#q.length) {
      const c = this.#q[i]
      if (c === '"') {
        this.#i = i + 1
        return value
      }
      if (c === '\\') {
        const n = this.#q[i + 1] ?? ''
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' }
        if (simple[n] === undefined) throw this.#error(i, 'invalid syntax: unknown escape sequence')
        value += simple[n]
        i += 2
        continue
      }
      value += c
      i += 1
    }
    throw this.#error(at, 'literal not terminated')
  }

  #literal(): Literal {
    this.#skip()
    const rest = this.#q.slice(this.#i)
    if (rest.startsWith('"') || rest.startsWith('`')) return { type: 'string', value: this.#string() }
    const duration = /^\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h)(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))*/.exec(rest)
    if (duration && !/^[A-Za-z0-9_]/.test(rest.slice(duration[0].length))) {
      this.#i += duration[0].length
      return { type: 'duration', ns: parseGoDurationNs(duration[0]) ?? 0n }
    }
    const number = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(rest)
    if (number && !/^[A-Za-z_]/.test(rest.slice(number[0].length))) {
      this.#i += number[0].length
      return number[1] !== undefined || number[2] !== undefined ? { type: 'float', value: Number(number[0]) } : { type: 'int', value: Number(number[0]) }
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest)
    if (ident) {
      const word = ident[0]
      if (word === 'true' || word === 'false') {
        this.#i += word.length
        return { type: 'bool', value: word === 'true' }
      }
      if (STATUSES.has(word)) {
        this.#i += word.length
        return { type: 'status', value: word as SpanStatus }
      }
      if (KINDS.has(word)) {
        this.#i += word.length
        return { type: 'kind', value: word as Kind }
      }
      if (word === 'nil') throw this.#unsupported(this.#i, 'nil')
    }
    throw this.#syntax()
  }

  #condition(): Condition {
    const fieldAt = this.#i
    const field = this.#field()
    const op = this.#op()
    const valueAt = this.#i
    const value = this.#literal()
    const condition: Condition = { field, op, value }
    if (op === '=~' || op === '!~') {
      if (value.type !== 'string') throw this.#error(valueAt, `invalid regex operand: ${op} needs a string`)
      try {
        condition.re = new RegExp(`^(?:${value.value})$`)
      } catch (error) {
        throw this.#error(valueAt, `error parsing regexp: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
    if (field.scope === 'intrinsic') {
      const want: Record<string, Literal['type'][]> = {
        status: ['status'], kind: ['kind'], duration: ['duration'], name: ['string'], statusMessage: ['string'],
      }
      if (!(want[field.name] ?? []).includes(value.type)) {
        throw this.#error(fieldAt, `invalid ${field.name} comparison: ${field.name} cannot be compared with a ${value.type}`)
      }
      if ((field.name === 'status' || field.name === 'kind') && op !== '=' && op !== '!=') {
        throw this.#error(fieldAt, `invalid ${field.name} comparison: only = and != are allowed`)
      }
    }
    return condition
  }
}

/** Parses a field such as `resource.service.name`, `span.http.status_code`, `.x` or `status`. */
export function parseTraceqlField(text: string): Field {
  return new Parser(text).fieldOnly()
}

/** Parses a TraceQL query of the supported subset; throws TraceqlParseError with a Tempo-style message. */
export function parseTraceql(query: string): SpansetFilter {
  return new Parser(query).parse()
}

function compare<T extends number | bigint | string>(op: Op, a: T, b: T): boolean {
  switch (op) {
    case '=':
      return a === b
    case '!=':
      return a !== b
    case '>':
      return a > b
    case '>=':
      return a >= b
    case '<':
      return a < b
    case '<=':
      return a <= b
    default:
      return false
  }
}

/** The value a condition reads from a span, as a literal; null when absent. */
export function fieldValue(field: Field, span: SpanView): Literal | null {
  if (field.scope === 'intrinsic') {
    switch (field.name) {
      case 'status':
        return { type: 'status', value: span.status }
      case 'kind':
        return { type: 'kind', value: span.kind }
      case 'duration':
        return { type: 'duration', ns: span.durationNs }
      case 'name':
        return { type: 'string', value: span.name }
      case 'statusMessage':
        return { type: 'string', value: span.statusMessage }
    }
  }
  const raw =
    field.scope === 'resource'
      ? span.resource[field.name]
      : field.scope === 'span'
        ? span.attributes[field.name]
        : (span.attributes[field.name] ?? span.resource[field.name])
  if (raw === undefined) return null
  if (typeof raw === 'string') return { type: 'string', value: raw }
  if (typeof raw === 'boolean') return { type: 'bool', value: raw }
  return Number.isInteger(raw) ? { type: 'int', value: raw } : { type: 'float', value: raw }
}

export function conditionMatches(c: Condition, span: SpanView): boolean {
  const actual = fieldValue(c.field, span)
  if (actual === null) return false
  const want = c.value
  if (c.op === '=~' || c.op === '!~') {
    if (actual.type !== 'string') return false
    const hit = c.re!.test(actual.value)
    return c.op === '=~' ? hit : !hit
  }
  if ((actual.type === 'int' || actual.type === 'float') && (want.type === 'int' || want.type === 'float')) return compare(c.op, actual.value, want.value)
  if (actual.type === 'duration' && want.type === 'duration') return compare(c.op, actual.ns, want.ns)
  if (actual.type === 'string' && want.type === 'string') return compare(c.op, actual.value, want.value)
  if (actual.type === 'bool' && want.type === 'bool') return c.op === '=' ? actual.value === want.value : c.op === '!=' ? actual.value !== want.value : false
  if ((actual.type === 'status' && want.type === 'status') || (actual.type === 'kind' && want.type === 'kind')) {
    return c.op === '=' ? actual.value === want.value : c.op === '!=' ? actual.value !== want.value : false
  }
  return false
}

export function spanMatches(filter: SpansetFilter, span: SpanView): boolean {
  return filter.conditions.every((c) => conditionMatches(c, span))
}
