/**
 * The LogQL subset the Loki stand-in evaluates, honestly (parsed, then computed over the
 * pushed lines), and nothing more:
 *
 * - stream selectors `{name="v", name!="v", name=~"re", name!~"re"}` (regexes fully anchored,
 *   a missing label equals ""; at least one matcher must not match the empty string);
 * - line filters after a selector: `|= "s"`, `!= "s"`, `|~ "re"`, `!~ "re"` (regexes
 *   unanchored; a leading `(?i)` is honoured);
 * - range aggregations `count_over_time(<log query> [<range>])` and `rate(...)` (count / range
 *   seconds); the range may also follow the selector: `count_over_time({a="b"}[5m] |= "x")`.
 *   A line at time ts counts for evaluation time t when t - range < ts <= t;
 * - `sum(...)`, `sum by (l1, l2) (...)`, `sum(...) by (...)`; `vector(<number>)`; number literals;
 * - binary `*`, `/`, `%`, `+`, `-` (one-to-one matching on identical label sets; the left
 *   side's labels are kept) and `or` (the left side, plus right-side series whose labels the
 *   left lacks); parentheses.
 *
 * Anything else (parsers like `| json`, label filters, `without`, `offset`, other functions,
 * comparisons, `and`/`unless`) is refused with a parse error that says the stand-in does not
 * support it. Strings are Go strings: "…" with escapes or `…` raw. Regexes are JavaScript
 * regexes, which agree with RE2 on the simple patterns tests use.
 */

export type Labels = Record<string, string>

export class LogqlParseError extends Error {
  override readonly name = 'LogqlParseError'
}

// ---------------------------------------------------------------- lexer

type TokenKind =
  | '{' | '}' | '(' | ')' | '[' | ']' | ','
  | '=' | '!=' | '=~' | '!~' | '|=' | '|~' | '|'
  | '+' | '-' | '*' | '/' | '%' | '^' | '==' | '>' | '>=' | '<' | '<='
  | 'STRING' | 'NUMBER' | 'DURATION' | 'IDENTIFIER' | 'EOF'

interface Token {
  kind: TokenKind
  /** The token's value: the unquoted string, the identifier, the number or duration text. */
  value: string
  /** 0-based offset into the query. */
  at: number
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000,
}
const DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|w|y))+/
const NUMBER = /^(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)/
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/

/** Milliseconds in a Go/Prometheus duration like `1h30m`, `20s`, `500ms`. */
export function parseDurationMs(text: string): number | null {
  if (!new RegExp(`${DURATION.source}$`).test(text)) return null
  let total = 0
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y)/g)) total += Number(m[1]) * (DURATION_UNITS[m[2] ?? 's'] ?? 0)
  return total
}

function position(query: string, at: number): string {
  const before = query.slice(0, at)
  const line = before.split('\n').length
  const col = at - (before.lastIndexOf('\n') + 1) + 1
  return `line ${line}, col ${col}`
}

function parseError(query: string, at: number, message: string): LogqlParseError {
  return new LogqlParseError(`parse error at ${position(query, at)}: ${message}`)
}

function unsupported(query: string, at: number, what: string): LogqlParseError {
  return parseError(query, at, `not supported by the Sentra Loki stand-in: ${what}`)
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'EOF':
      return '$end'
    case 'STRING':
    case 'NUMBER':
    case 'DURATION':
    case 'IDENTIFIER':
      return token.kind
    default:
      return token.kind
  }
}

function unquote(query: string, at: number): { value: string; end: number } {
  const quote = query[at]
  if (quote === '`') {
    const end = query.indexOf('`', at + 1)
    if (end < 0) throw parseError(query, at, 'literal not terminated')
    return { value: query.slice(at + 1, end), end: end + 1 }
  }
  let value = ''
  let i = at + 1
  while (i < query.length) {
    const c = query[i]
    if (c === '"') return { value, end: i + 1 }
    if (c === '\n') break
    if (c === '\\') {
      const n = query[i + 1]
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', a: '\x07', b: '\b', f: '\f', v: '\v', "'": "'" }
      if (n !== undefined && simple[n] !== undefined) {
        value += simple[n]
        i += 2
        continue
      }
      const hex = /^(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))/.exec(query.slice(i + 1))
      if (hex) {
        value += String.fromCodePoint(parseInt(hex[1] ?? hex[2] ?? hex[3] ?? '0', 16))
        i += 1 + hex[0].length
        continue
      }
      throw parseError(query, i, 'invalid syntax: unknown escape sequence')
    }
    value += c
    i += 1
  }
  throw parseError(query, at, 'literal not terminated')
}

function lex(query: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  const two = new Set(['!=', '=~', '!~', '|=', '|~', '==', '>=', '<='])
  while (i < query.length) {
    const c = query[i] ?? ''
    if (/\s/.test(c)) {
      i += 1
      continue
    }
    if (c === '#') {
      // Comments run to the end of the line.
      while (i < query.length && query[i] !== '\n') i += 1
      continue
    }
    if (c === '"' || c === '`') {
      const { value, end } = unquote(query, i)
      tokens.push({ kind: 'STRING', value, at: i })
      i = end
      continue
    }
    const pair = query.slice(i, i + 2)
    if (two.has(pair)) {
      tokens.push({ kind: pair as TokenKind, value: pair, at: i })
      i += 2
      continue
    }
    if ('{}()[],=|+-*/%^><'.includes(c)) {
      tokens.push({ kind: c as TokenKind, value: c, at: i })
      i += 1
      continue
    }
    const rest = query.slice(i)
    const duration = DURATION.exec(rest)
    if (duration && !/^[A-Za-z0-9_]/.test(rest.slice(duration[0].length))) {
      tokens.push({ kind: 'DURATION', value: duration[0], at: i })
      i += duration[0].length
      continue
    }
    const number = NUMBER.exec(rest)
    if (number) {
      tokens.push({ kind: 'NUMBER', value: number[0], at: i })
      i += number[0].length
      continue
    }
    const ident = IDENT.exec(rest)
    if (ident) {
      tokens.push({ kind: 'IDENTIFIER', value: ident[0], at: i })
      i += ident[0].length
      continue
    }
    throw parseError(query, i, `syntax error: unexpected character ${JSON.stringify(c)}`)
  }
  tokens.push({ kind: 'EOF', value: '', at: query.length })
  return tokens
}

// ---------------------------------------------------------------- AST

export interface Matcher {
  name: string
  op: '=' | '!=' | '=~' | '!~'
  value: string
  re?: RegExp
}

export interface LineFilter {
  op: '|=' | '!=' | '|~' | '!~'
  value: string
  re?: RegExp
}

export interface LogQuery {
  type: 'log'
  matchers: Matcher[]
  filters: LineFilter[]
  at: number
}

export type MetricExpr =
  | { type: 'range'; fn: 'count_over_time' | 'rate'; log: LogQuery; rangeMs: number; at: number }
  | { type: 'sum'; by: string[] | null; expr: MetricExpr; at: number }
  | { type: 'binary'; op: '+' | '-' | '*' | '/' | '%' | 'or'; left: MetricExpr; right: MetricExpr; at: number }
  | { type: 'vector'; value: number; at: number }
  | { type: 'number'; value: number; at: number }

export type Expr = LogQuery | MetricExpr

const UNSUPPORTED_FUNCTIONS = new Set([
  'avg', 'min', 'max', 'count', 'topk', 'bottomk', 'stddev', 'stdvar', 'sort', 'sort_desc', 'approx_topk',
  'bytes_over_time', 'bytes_rate', 'avg_over_time', 'sum_over_time', 'min_over_time', 'max_over_time',
  'stdvar_over_time', 'stddev_over_time', 'quantile_over_time', 'first_over_time', 'last_over_time',
  'absent_over_time', 'rate_counter', 'label_replace', 'absent', 'scalar', 'time', 'timestamp',
])

// ---------------------------------------------------------------- parser

class Parser {
  readonly #query: string
  readonly #tokens: Token[]
  #i = 0

  constructor(query: string) {
    this.#query = query
    this.#tokens = lex(query)
  }

  #peek(): Token {
    return this.#tokens[this.#i] ?? { kind: 'EOF', value: '', at: this.#query.length }
  }

  #next(): Token {
    const token = this.#peek()
    if (this.#i < this.#tokens.length - 1) this.#i += 1
    return token
  }

  #unexpected(token: Token = this.#peek()): LogqlParseError {
    return parseError(this.#query, token.at, `syntax error: unexpected ${describe(token)}`)
  }

  #expect(kind: TokenKind): Token {
    const token = this.#peek()
    if (token.kind !== kind) throw this.#unexpected(token)
    return this.#next()
  }

  parse(): Expr {
    if (this.#query.trim() === '') throw parseError(this.#query, 0, 'syntax error: unexpected $end')
    const expr = this.#or()
    if (this.#peek().kind !== 'EOF') throw this.#unexpectedAfterExpr()
    return expr
  }

  #unexpectedAfterExpr(): LogqlParseError {
    const token = this.#peek()
    if (token.kind === '|') return unsupported(this.#query, token.at, 'pipeline stages other than line filters (|= != |~ !~)')
    if (['==', '>', '>=', '<', '<=', '!='].includes(token.kind)) return unsupported(this.#query, token.at, `the comparison operator ${token.kind}`)
    if (token.kind === '^') return unsupported(this.#query, token.at, 'the operator ^')
    if (token.kind === 'IDENTIFIER' && ['and', 'unless'].includes(token.value)) return unsupported(this.#query, token.at, `the set operator ${token.value}`)
    if (token.kind === 'IDENTIFIER' && ['offset', 'bool', 'on', 'ignoring', 'group_left', 'group_right'].includes(token.value)) return unsupported(this.#query, token.at, token.value)
    return this.#unexpected(token)
  }

  #metric(expr: Expr): MetricExpr {
    if (expr.type === 'log') throw parseError(this.#query, expr.at, 'syntax error: unexpected {, a log query cannot be used in a metric expression without a range aggregation')
    return expr
  }

  #or(): Expr {
    let left = this.#additive()
    while (this.#peek().kind === 'IDENTIFIER' && this.#peek().value === 'or') {
      const op = this.#next()
      const right = this.#additive()
      left = { type: 'binary', op: 'or', left: this.#metric(left), right: this.#metric(right), at: op.at }
    }
    return left
  }

  #additive(): Expr {
    let left = this.#multiplicative()
    while (this.#peek().kind === '+' || this.#peek().kind === '-') {
      const op = this.#next()
      const right = this.#multiplicative()
      left = { type: 'binary', op: op.kind as '+' | '-', left: this.#metric(left), right: this.#metric(right), at: op.at }
    }
    return left
  }

  #multiplicative(): Expr {
    let left = this.#primary()
    while (this.#peek().kind === '*' || this.#peek().kind === '/' || this.#peek().kind === '%') {
      const op = this.#next()
      const right = this.#primary()
      left = { type: 'binary', op: op.kind as '*' | '/' | '%', left: this.#metric(left), right: this.#metric(right), at: op.at }
    }
    return left
  }

  #primary(): Expr {
    const token = this.#peek()
    switch (token.kind) {
      case '{':
        return this.#logQuery()
      case '(': {
        this.#next()
        const inner = this.#or()
        this.#expect(')')
        return inner
      }
      case 'NUMBER':
        this.#next()
        return { type: 'number', value: Number(token.value), at: token.at }
      case '-':
        throw unsupported(this.#query, token.at, 'unary minus')
      case 'IDENTIFIER':
        return this.#call()
      default:
        throw this.#unexpected(token)
    }
  }

  #call(): MetricExpr {
    const name = this.#next()
    switch (name.value) {
      case 'count_over_time':
      case 'rate':
        return this.#rangeAggregation(name)
      case 'sum':
        return this.#sum(name)
      case 'vector': {
        this.#expect('(')
        const n = this.#expect('NUMBER')
        this.#expect(')')
        return { type: 'vector', value: Number(n.value), at: name.at }
      }
      default:
        if (UNSUPPORTED_FUNCTIONS.has(name.value)) throw unsupported(this.#query, name.at, `the function ${name.value}`)
        if (name.value === 'without') throw unsupported(this.#query, name.at, 'without')
        throw this.#unexpected(name)
    }
  }

  #rangeAggregation(name: Token): MetricExpr {
    this.#expect('(')
    const log = this.#logQuery(true)
    if (log.range === null) throw this.#unexpected()
    this.#expect(')')
    if (this.#peek().kind === 'IDENTIFIER' && (this.#peek().value === 'by' || this.#peek().value === 'without')) {
      throw unsupported(this.#query, this.#peek().at, `grouping on ${name.value}`)
    }
    return { type: 'range', fn: name.value as 'count_over_time' | 'rate', log: log.query, rangeMs: log.range, at: name.at }
  }

  #grouping(): string[] {
    const keyword = this.#next()
    if (keyword.value === 'without') throw unsupported(this.#query, keyword.at, 'without')
    this.#expect('(')
    const labels: string[] = []
    while (this.#peek().kind !== ')') {
      labels.push(this.#expect('IDENTIFIER').value)
      if (this.#peek().kind === ',') this.#next()
      else break
    }
    this.#expect(')')
    return labels
  }

  #sum(name: Token): MetricExpr {
    let by: string[] | null = null
    if (this.#peek().kind === 'IDENTIFIER' && (this.#peek().value === 'by' || this.#peek().value === 'without')) by = this.#grouping()
    this.#expect('(')
    const open = this.#peek()
    const inner = this.#or()
    if (inner.type === 'log') throw parseError(this.#query, open.at, 'syntax error: unexpected {, sum needs a metric expression')
    this.#expect(')')
    if (this.#peek().kind === 'IDENTIFIER' && (this.#peek().value === 'by' || this.#peek().value === 'without')) {
      if (by !== null) throw this.#unexpected()
      by = this.#grouping()
    }
    return { type: 'sum', by, expr: inner, at: name.at }
  }

  #regex(source: string, at: number, anchored: boolean): RegExp {
    let flags = ''
    let body = source
    if (body.startsWith('(?i)')) {
      flags = 'i'
      body = body.slice(4)
    }
    try {
      return new RegExp(anchored ? `^(?:${body})$` : body, flags)
    } catch (error) {
      throw parseError(this.#query, at, `error parsing regexp: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  #logQuery(inRange: true): { query: LogQuery; range: number | null }
  #logQuery(inRange?: false): LogQuery
  #logQuery(inRange = false): LogQuery | { query: LogQuery; range: number | null } {
    const open = this.#expect('{')
    const matchers: Matcher[] = []
    while (this.#peek().kind !== '}') {
      const label = this.#expect('IDENTIFIER')
      const op = this.#next()
      if (op.kind !== '=' && op.kind !== '!=' && op.kind !== '=~' && op.kind !== '!~') throw this.#unexpected(op)
      const value = this.#expect('STRING')
      const matcher: Matcher = { name: label.value, op: op.kind, value: value.value }
      if (op.kind === '=~' || op.kind === '!~') matcher.re = this.#regex(value.value, value.at, true)
      matchers.push(matcher)
      if (this.#peek().kind === ',') this.#next()
      else if (this.#peek().kind !== '}') throw this.#unexpected()
    }
    this.#expect('}')
    const selectsSomething = matchers.some((m) => !matches(m, ''))
    if (!selectsSomething) {
      throw new LogqlParseError(
        'parse error : queries require at least one regexp or equality matcher that does not match the empty string, e.g. app=~".+" (app=~".*" does not count)',
      )
    }
    const query: LogQuery = { type: 'log', matchers, filters: [], at: open.at }
    let range: number | null = null
    const takeRange = (): void => {
      const bracket = this.#expect('[')
      const duration = this.#expect('DURATION')
      const ms = parseDurationMs(duration.value)
      if (ms === null || ms <= 0) throw parseError(this.#query, duration.at, `invalid range ${duration.value}`)
      this.#expect(']')
      if (range !== null) throw this.#unexpected(bracket)
      range = ms
      if (this.#peek().kind === 'IDENTIFIER' && this.#peek().value === 'offset') throw unsupported(this.#query, this.#peek().at, 'offset')
    }
    for (;;) {
      const token = this.#peek()
      if (token.kind === '|=' || token.kind === '|~' || token.kind === '!=' || token.kind === '!~') {
        this.#next()
        const value = this.#expect('STRING')
        const filter: LineFilter = { op: token.kind, value: value.value }
        if (token.kind === '|~' || token.kind === '!~') filter.re = this.#regex(value.value, value.at, false)
        query.filters.push(filter)
        if (this.#peek().kind === 'IDENTIFIER' && this.#peek().value === 'or') {
          throw unsupported(this.#query, this.#peek().at, 'or between line filter values')
        }
        continue
      }
      if (token.kind === '|') throw unsupported(this.#query, token.at, 'pipeline stages other than line filters (|= != |~ !~)')
      if (token.kind === '[' && inRange) {
        takeRange()
        continue
      }
      break
    }
    return inRange ? { query, range } : query
  }
}

/** Parses `query`; throws LogqlParseError with a Loki-style message. */
export function parseLogql(query: string): Expr {
  return new Parser(query).parse()
}

// ---------------------------------------------------------------- evaluation

function matches(m: Matcher, value: string): boolean {
  switch (m.op) {
    case '=':
      return value === m.value
    case '!=':
      return value !== m.value
    case '=~':
      return m.re!.test(value)
    case '!~':
      return !m.re!.test(value)
  }
}

export function selectorMatches(matchers: readonly Matcher[], labels: Labels): boolean {
  return matchers.every((m) => matches(m, labels[m.name] ?? ''))
}

export function lineMatches(filters: readonly LineFilter[], line: string): boolean {
  return filters.every((f) => {
    switch (f.op) {
      case '|=':
        return line.includes(f.value)
      case '!=':
        return !line.includes(f.value)
      case '|~':
        return f.re!.test(line)
      case '!~':
        return !f.re!.test(line)
    }
  })
}

export interface Entry {
  ns: bigint
  line: string
}

export interface Stream {
  labels: Labels
  /** Oldest first. */
  entries: Entry[]
}

export interface Sample {
  labels: Labels
  value: number
}

export type Value = { kind: 'vector'; samples: Sample[] } | { kind: 'scalar'; value: number }

export interface EvalStats {
  linesProcessed: number
  bytesProcessed: number
}

function signature(labels: Labels): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]))
}

function arith(op: '+' | '-' | '*' | '/' | '%', a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b
    case '-':
      return a - b
    case '*':
      return a * b
    case '/':
      return a / b
    case '%':
      return a % b
  }
}

/** Index of the first entry with ns > bound (entries oldest first). */
function upperBound(entries: readonly Entry[], bound: bigint): number {
  let lo = 0
  let hi = entries.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (entries[mid]!.ns <= bound) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Evaluates a metric expression at `tNs`. */
export function evaluateAt(expr: MetricExpr, tNs: bigint, streams: readonly Stream[], stats: EvalStats): Value {
  switch (expr.type) {
    case 'number':
      return { kind: 'scalar', value: expr.value }
    case 'vector':
      return { kind: 'vector', samples: [{ labels: {}, value: expr.value }] }
    case 'range': {
      const fromNs = tNs - BigInt(Math.round(expr.rangeMs * 1e6))
      const samples: Sample[] = []
      for (const stream of streams) {
        if (!selectorMatches(expr.log.matchers, stream.labels)) continue
        // (t - range, t]
        const first = upperBound(stream.entries, fromNs)
        const last = upperBound(stream.entries, tNs)
        let count = 0
        for (let i = first; i < last; i++) {
          const entry = stream.entries[i]!
          stats.linesProcessed += 1
          stats.bytesProcessed += Buffer.byteLength(entry.line)
          if (lineMatches(expr.log.filters, entry.line)) count += 1
        }
        if (count === 0) continue
        samples.push({ labels: { ...stream.labels }, value: expr.fn === 'rate' ? count / (expr.rangeMs / 1000) : count })
      }
      return { kind: 'vector', samples }
    }
    case 'sum': {
      const inner = evaluateAt(expr.expr, tNs, streams, stats)
      if (inner.kind === 'scalar') return { kind: 'vector', samples: [{ labels: {}, value: inner.value }] }
      const groups = new Map<string, Sample>()
      for (const sample of inner.samples) {
        const labels: Labels = {}
        for (const name of expr.by ?? []) {
          const value = sample.labels[name]
          if (value !== undefined && value !== '') labels[name] = value
        }
        const key = signature(labels)
        const group = groups.get(key)
        if (group) group.value += sample.value
        else groups.set(key, { labels, value: sample.value })
      }
      return { kind: 'vector', samples: [...groups.values()] }
    }
    case 'binary': {
      const left = evaluateAt(expr.left, tNs, streams, stats)
      const right = evaluateAt(expr.right, tNs, streams, stats)
      if (expr.op === 'or') {
        if (left.kind === 'scalar' || right.kind === 'scalar') throw new LogqlParseError('parse error : set operator or not allowed in binary scalar expression')
        const seen = new Set(left.samples.map((s) => signature(s.labels)))
        return { kind: 'vector', samples: [...left.samples, ...right.samples.filter((s) => !seen.has(signature(s.labels)))] }
      }
      const op = expr.op
      if (left.kind === 'scalar' && right.kind === 'scalar') return { kind: 'scalar', value: arith(op, left.value, right.value) }
      if (left.kind === 'scalar' && right.kind === 'vector') {
        return { kind: 'vector', samples: right.samples.map((s) => ({ labels: s.labels, value: arith(op, left.value, s.value) })) }
      }
      if (left.kind === 'vector' && right.kind === 'scalar') {
        return { kind: 'vector', samples: left.samples.map((s) => ({ labels: s.labels, value: arith(op, s.value, right.value) })) }
      }
      const rightBySig = new Map<string, Sample>()
      for (const s of (right as { samples: Sample[] }).samples) rightBySig.set(signature(s.labels), s)
      const samples: Sample[] = []
      for (const s of (left as { samples: Sample[] }).samples) {
        const other = rightBySig.get(signature(s.labels))
        if (other) samples.push({ labels: s.labels, value: arith(op, s.value, other.value) })
      }
      return { kind: 'vector', samples }
    }
  }
}

/**
 * Go's strconv.FormatFloat(v, 'f', -1, 64), which Loki uses for sample values: the shortest
 * decimal that round-trips, never in exponent form; NaN, +Inf, -Inf spelled as Go does.
 */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  const s = String(value)
  if (!s.includes('e')) return s
  const [mantissa = '0', exp = '0'] = s.split('e')
  const negative = mantissa.startsWith('-')
  const digits = mantissa.replace('-', '').replace('.', '')
  const pointAt = (mantissa.replace('-', '').indexOf('.') < 0 ? mantissa.replace('-', '').length : mantissa.replace('-', '').indexOf('.')) + Number(exp)
  let out: string
  if (pointAt <= 0) out = `0.${'0'.repeat(-pointAt)}${digits}`
  else if (pointAt >= digits.length) out = digits + '0'.repeat(pointAt - digits.length)
  else out = `${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`
  return negative ? `-${out}` : out
}
