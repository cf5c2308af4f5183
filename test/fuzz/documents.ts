/**
 * GraphQL documents generated from the real schema: random selections over real types,
 * arguments with valid and hostile values (inline or as variables, sometimes of the wrong
 * type), aliases, fragments, directives, several operations, and near-misses (unknown
 * fields, selections on scalars, cyclic fragments). Output is text, written by hand rather
 * than printed from an AST, so literals the parser must reject can be written too.
 */
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql'
import { HOSTILE_NUMBERS, hostileId, hostileJson, hostileString, rngUuid, type Known } from './hostile.ts'
import type { Rng } from './prng.ts'
import { documentArgument } from './specs.ts'

export type OperationKind = 'query' | 'mutation' | 'subscription'

export interface GeneratedOperation {
  query: string
  variables?: Record<string, unknown>
  operationName?: string
  kind: OperationKind
  /** Root fields the operation selects (mutations: what it may change when accepted). */
  rootFields: string[]
  /** A valid document of a mutation meant to be accepted (it may change state). */
  meantToSucceed: boolean
  note: string
}

const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/
const JSON_FIELDS = new Set(['applyApplication', 'applyPolicy', 'applyProvider', 'applyGuardrails'])

/** Literal tokens the lexer or the coercion must refuse. */
const RAW_LITERALS = [
  '99999999999999999999999999',
  '-2147483649',
  '2147483648',
  '1e400',
  '0x10',
  '1.',
  '.5',
  '-',
  '01',
  'NaN',
  'Infinity',
  'undefined',
  'null',
  '"\\uD800"',
  '"\\u{1F600}"',
  '"\\x41"',
  '"""block\n\t"""',
  '"unterminated',
  '[1, [2, [3]]]',
  '{a: {b: {c: 1}}}',
  '$undeclared',
  'TRUE',
  'ADMIN',
  'admin',
  '"ADMIN"',
]

export class DocumentGenerator {
  readonly #schema: GraphQLSchema
  readonly #known: Known
  #rng!: Rng
  #vars: { name: string; type: string; value?: unknown; provide: boolean; defaultLiteral?: string }[] = []
  #fragments: string[] = []
  #notes: string[] = []
  #maxDepth = 4
  #forceValid = false

  constructor(schema: GraphQLSchema, known: Known) {
    this.#schema = schema
    this.#known = known
  }

  /** One operation; `forceValid` makes a mutation that should be accepted (no hostile values). */
  operation(rng: Rng, { kind, forceValid = false }: { kind?: OperationKind; forceValid?: boolean } = {}): GeneratedOperation {
    this.#rng = rng
    this.#vars = []
    this.#fragments = []
    this.#notes = []
    this.#forceValid = forceValid
    this.#maxDepth = forceValid ? 3 : rng.weighted([[6, rng.int(1, 4)], [2, rng.int(5, 9)], [1, rng.int(10, 14)]])
    const opKind: OperationKind = kind ?? rng.weighted<OperationKind>([[5, 'query'], [4, 'mutation'], [1, 'subscription']])
    const root = opKind === 'query' ? this.#schema.getQueryType() : opKind === 'mutation' ? this.#schema.getMutationType() : this.#schema.getSubscriptionType()
    if (!root) throw new Error(`no ${opKind} type`)
    const fields = Object.values(root.getFields())
    // A subscription selects one root field (more is a validation error: sometimes sent on purpose).
    const count = opKind === 'subscription' && (forceValid || rng.chance(0.9)) ? 1 : forceValid || opKind !== 'query' ? (rng.chance(0.9) ? 1 : rng.int(2, 3)) : rng.int(1, 4)
    const chosen = rng.some(fields, count, count)
    const hostility = forceValid ? 0 : rng.weighted([[3, 0.05], [4, 0.3], [2, 0.7], [1, 1]])
    const selections = chosen.map((field) => this.#field(field, 0, hostility))
    if (!forceValid && rng.chance(0.05)) selections.push(rng.pick(['bogusField', '__typename', '__schema { queryType { name } }', '__type(name: "Rollout") { fields { name args { name } } }', '...Missing', '... on Query { __typename }']))
    const opName = rng.chance(0.5) ? `Fz${rng.int(0, 999)}` : undefined
    const varDefs = this.#vars.map((v) => `$${v.name}: ${v.type}${v.defaultLiteral ? ` = ${v.defaultLiteral}` : ''}`)
    const header = opKind === 'query' && !opName && varDefs.length === 0 && rng.chance(0.5) ? '' : `${opKind}${opName ? ` ${opName}` : ''}${varDefs.length ? `(${varDefs.join(', ')})` : ''}${!forceValid && rng.chance(0.05) ? ' @include(if: true)' : ''} `
    let query = `${header}{ ${selections.join(' ')} }`
    if (this.#fragments.length > 0) query += ' ' + this.#fragments.join(' ')
    let operationName: string | undefined = opName
    if (!forceValid && rng.chance(0.08)) {
      // A second operation, and an operationName that may or may not pick one.
      query += rng.pick([' query Other { viewer { name } }', ' { viewer { name } }', ' mutation Other { revokeApiToken(id: "x") }', ' subscription Other { rolloutEvents { seq } }'])
      operationName = rng.pick([opName, 'Other', 'Nope', '', undefined])
      this.#notes.push('two operations')
    } else if (!forceValid && rng.chance(0.03)) {
      operationName = rng.pick(['Nope', '', 'x'.repeat(300)])
    }
    const variables: Record<string, unknown> = {}
    for (const v of this.#vars) if (v.provide) variables[v.name] = v.value
    if (!forceValid && rng.chance(0.05)) variables[rng.pick(['extra', '__proto__', 'constructor'])] = hostileJson(rng)
    return {
      query,
      variables: Object.keys(variables).length > 0 || rng.chance(0.3) ? variables : undefined,
      operationName,
      kind: opKind,
      rootFields: chosen.map((f) => f.name),
      meantToSucceed: forceValid,
      note: this.#notes.join('; '),
    }
  }

  #field(field: GraphQLField<unknown, unknown>, depth: number, hostility: number): string {
    const rng = this.#rng
    const alias = rng.chance(hostility > 0 ? 0.15 : 0.05) ? `${rng.pick(['a', 'b', 'x', 'id', '__typename', 'rollout'])}${rng.int(0, 40)}: ` : ''
    const args: string[] = []
    for (const arg of field.args) {
      const required = isNonNullType(arg.type)
      if (required ? rng.chance(hostility > 0.5 ? 0.93 : 0.99) : rng.chance(0.4)) args.push(`${arg.name}: ${this.#argument(field.name, arg, hostility)}`)
    }
    if (rng.chance(hostility * 0.05)) args.push(`${rng.pick(['bogus', 'id', 'first', 'where'])}: ${rng.pick(RAW_LITERALS)}`)
    const directives = rng.chance(hostility * 0.1) ? ' ' + this.#directive() : ''
    const named = getNamedType(field.type)
    let selection = ''
    if (!isLeafType(named)) {
      if (rng.chance(hostility * 0.03)) this.#notes.push(`no selection on ${field.name}`)
      else selection = ' ' + this.#selectionSet(named, depth + 1, hostility)
    } else if (rng.chance(hostility * 0.02)) {
      selection = ' { id }'
      this.#notes.push(`selection on leaf ${field.name}`)
    }
    return `${alias}${field.name}${args.length ? `(${args.join(', ')})` : ''}${directives}${selection}`
  }

  #directive(): string {
    const rng = this.#rng
    return rng.pick([
      '@include(if: true)',
      '@skip(if: false)',
      '@skip(if: true)',
      '@include(if: "yes")',
      '@include',
      '@deprecated',
      '@unknown(x: 1)',
      '@include(if: true) @include(if: false)',
      `@skip(if: $${this.#declare('Boolean!', rng.pick([true, false, 'no', null]))})`,
    ])
  }

  #selectionSet(type: GraphQLNamedType, depth: number, hostility: number): string {
    const rng = this.#rng
    if (isInterfaceType(type) || isUnionType(type)) {
      const possible = this.#schema.getPossibleTypes(type)
      const parts = ['__typename']
      if (isInterfaceType(type)) parts.push('id')
      for (const impl of rng.some(possible, 1, possible.length)) parts.push(`... on ${impl.name} ${this.#selectionSet(impl, depth, hostility)}`)
      if (rng.chance(hostility * 0.05)) parts.push(rng.pick(['... on Query { __typename }', '... on Nope { x }', '... on ApiToken { id }']))
      return `{ ${parts.join(' ')} }`
    }
    if (!isObjectType(type)) return '{ __typename }'
    const fields = Object.values(type.getFields())
    const leaves = fields.filter((f) => isLeafType(getNamedType(f.type)))
    const branches = fields.filter((f) => !isLeafType(getNamedType(f.type)))
    const picked = [...rng.some(leaves, 1, 4)]
    if (depth < this.#maxDepth && branches.length > 0) picked.push(...rng.some(branches, 0, depth < 2 ? 3 : 1))
    if (picked.length === 0) return '{ __typename }'
    const parts = picked.map((f) => this.#field(f, depth, hostility))
    if (rng.chance(0.1)) parts.push('__typename')
    if (rng.chance(hostility * 0.04)) {
      parts.push(rng.pick(['nope', 'password', 'token', 'hash', 'spec { x }', 'id(x: 1)']))
      this.#notes.push('unknown field')
    }
    if (rng.chance(0.12)) return this.#asFragment(type, parts, hostility)
    if (rng.chance(0.08)) return `{ ... on ${type.name} { ${parts.join(' ')} } }`
    return `{ ${parts.join(' ')} }`
  }

  #asFragment(type: GraphQLObjectType, parts: string[], hostility: number): string {
    const rng = this.#rng
    const name = `F${this.#fragments.length}x${rng.int(0, 99)}`
    if (rng.chance(hostility * 0.1)) {
      // Cyclic, or on the wrong type, or spread without a definition.
      const kind = rng.pick(['cycle', 'wrong', 'missing'])
      this.#notes.push(`fragment ${kind}`)
      if (kind === 'cycle') {
        this.#fragments.push(`fragment ${name} on ${type.name} { ${parts.join(' ')} ...${name}B }`, `fragment ${name}B on ${type.name} { ...${name} }`)
      } else if (kind === 'wrong') {
        this.#fragments.push(`fragment ${name} on ${rng.pick(['Query', 'Mutation', 'ApiToken', 'PageInfo', 'Nope'])} { ${parts.join(' ')} }`)
      }
      return `{ ...${name} }`
    }
    this.#fragments.push(`fragment ${name} on ${type.name} { ${parts.join(' ')} }`)
    return `{ ...${name}${rng.chance(0.1) ? ` ...${name}` : ''} }`
  }

  /** An argument as text: an inline literal, or a variable declared with some type and given some value. */
  #argument(field: string, arg: GraphQLArgument, hostility: number): string {
    const rng = this.#rng
    const hostile = rng.chance(hostility)
    if (hostile && rng.chance(0.15)) {
      this.#notes.push(`raw literal for ${field}.${arg.name}`)
      return rng.pick(RAW_LITERALS)
    }
    const raw = hostile ? this.#hostileValue(field, arg.name, arg.type) : this.#validValue(field, arg.name, arg.type)
    const value = this.#forceValid ? wellFormed(raw) : raw
    const asVariable = JSON_FIELDS.has(field) ? rng.chance(0.85) : rng.chance(0.5)
    const literal = asVariable ? null : toLiteral(value, arg.type)
    if (literal !== null) return literal
    let type = String(arg.type)
    if (hostile && rng.chance(0.3)) {
      type = rng.pick(['String', 'String!', 'Int', 'Int!', 'ID', 'ID!', 'Boolean', 'JSON', '[ID!]!', '[String]', 'Float', 'Nope', 'RolloutStatus', 'TokenScope!', 'CreateWebhookSubscriptionInput', 'Rollout', `${type}!`, `[${type}]`])
      this.#notes.push(`variable for ${field}.${arg.name} declared ${type}`)
    }
    const provide = hostile ? rng.chance(0.9) : true
    const defaultLiteral = hostile && rng.chance(0.1) ? rng.pick(RAW_LITERALS) : undefined
    return `$${this.#declare(type, value, provide, defaultLiteral)}`
  }

  #declare(type: string, value: unknown, provide = true, defaultLiteral?: string): string {
    const name = `v${this.#vars.length}`
    this.#vars.push({ name, type, value, provide, defaultLiteral })
    return name
  }

  #validValue(field: string, arg: string, type: GraphQLInputType): unknown {
    const rng = this.#rng
    const known = this.#known
    if (JSON_FIELDS.has(field)) {
      const doc = documentArgument(rng, field, known, { mutate: !this.#forceValid })
      this.#notes.push(`${field} spec: ${doc.note}`)
      return doc.value
    }
    const inner = getNullableType(type)
    if (arg === 'id' || arg === 'deliveryId') {
      if (field === 'revokeApiToken') return rng.chance(0.7) && known.tokenIds.length ? rng.pick(known.tokenIds) : rngUuid(rng)
      if (field.includes('Webhook')) return rng.chance(0.7) && known.webhookIds.length ? rng.pick(known.webhookIds) : rngUuid(rng)
      if (field === 'node' && rng.chance(0.5) && known.applicationIds.length) return rng.pick(known.applicationIds)
      return hostileId(rng, known)
    }
    if (arg === 'application' || (arg === 'name' && field === 'application')) return known.applications.length && rng.chance(0.8) ? rng.pick(known.applications) : `fz-${rng.int(0, 99)}`
    if (arg === 'version') return `v${rng.int(0, 100_000)}`
    if (arg === 'name' && field === 'deletePolicy') return rng.chance(0.5) && known.policies.length ? rng.pick(known.policies) : `fz-policy-${rng.int(0, 99)}`
    if (arg === 'name' && field === 'deleteProvider') return rng.chance(0.5) && known.providers.length ? rng.pick(known.providers) : `fz-prov-${rng.int(0, 99)}`
    if (arg === 'name') return `fuzz token ${rng.int(0, 999)}`
    if (arg === 'environment') return rng.pick(['staging', 'fuzz-env', 'production'])
    if (arg === 'first' || arg === 'last') return rng.int(1, 100)
    if (arg === 'after' || arg === 'before') {
      // The store's cursor shape (base64url of [list, ...key]) with keys of every type and size.
      const key = Array.from({ length: rng.int(0, 3) }, () => rng.pick<unknown>([1_700_000_000_000 + rng.int(0, 1e9), rngUuid(rng), rng.pick(HOSTILE_NUMBERS), hostileString(rng).slice(0, 80), null, [], {}]))
      const list = rng.pick(['rollouts', 'applications', 'traces', 'step-traces', 'x', ''])
      return rng.chance(0.7) ? Buffer.from(JSON.stringify([list, ...key])).toString('base64url') : hostileString(rng).slice(0, 600)
    }
    if (arg === 'url') return `http://127.0.0.1:${rng.int(1025, 65000)}/hook`
    if (arg === 'reason') return rng.pick(['fuzz', 'because', hostileString(rng).slice(0, 200)])
    if (arg === 'input' && isInputObjectType(inner)) {
      return {
        url: `http://127.0.0.1:${rng.int(1025, 65000)}/hook`,
        ...(rng.chance(0.3) ? { events: ['ROLLOUT_FAILED'] } : {}),
        ...(rng.chance(0.3) ? { format: 'SLACK' } : {}),
        ...(rng.chance(0.2) && known.applications.length ? { application: rng.pick(known.applications) } : {}),
        ...(rng.chance(0.2) ? { secret: 'a fuzz secret of 24 chars' } : {}),
      }
    }
    return this.#typedValue(inner)
  }

  #typedValue(type: GraphQLInputType): unknown {
    const rng = this.#rng
    const inner = getNullableType(type)
    if (isListType(inner)) return Array.from({ length: rng.int(0, 3) }, () => this.#typedValue(inner.ofType))
    if (isEnumType(inner)) return rng.pick(inner.getValues()).name
    if (isInputObjectType(inner)) {
      const out: Record<string, unknown> = {}
      for (const f of Object.values(inner.getFields())) if (isNonNullType(f.type) || rng.chance(0.5)) out[f.name] = this.#typedValue(f.type)
      return out
    }
    switch (String(getNamedType(inner))) {
      case 'Int':
        return rng.int(1, 100)
      case 'Float':
        return rng.next()
      case 'Boolean':
        return rng.chance(0.5)
      case 'JSON':
        return hostileJson(rng)
      case 'DateTime':
        return new Date(Date.UTC(2026, 0, 1) + rng.int(-1e6, 1e6) * 60_000).toISOString()
      default:
        return hostileString(rng).slice(0, 64)
    }
  }

  #hostileValue(field: string, arg: string, type: GraphQLInputType): unknown {
    const rng = this.#rng
    const inner = getNullableType(type)
    if (JSON_FIELDS.has(field) && rng.chance(0.5)) return this.#validValue(field, arg, type)
    return rng.weighted<() => unknown>([
      [3, () => (String(getNamedType(inner)) === 'ID' ? hostileId(rng, this.#known) : hostileString(rng))],
      [2, () => rng.pick(HOSTILE_NUMBERS)],
      [1, () => null],
      [1, () => rng.chance(0.5)],
      [1, () => hostileJson(rng)],
      [1, () => (isEnumType(getNamedType(inner)) ? rng.pick(['admin', 'Admin', 'ROOT', '', 'PENDING ', '__proto__', 0]) : hostileString(rng))],
      [1, () => (isListType(inner) ? Array.from({ length: rng.chance(0.95) ? rng.pick([0, 9, 100]) : 10_000 }, () => this.#typedValue(inner.ofType)) : [this.#typedValue(inner)])],
      [1, () => (isInputObjectType(inner) ? this.#hostileInput(inner.name) : this.#typedValue(inner))],
    ])()
  }

  #hostileInput(name: string): unknown {
    const rng = this.#rng
    const base: Record<string, unknown> = { url: rng.pick(['', 'not a url', 'ftp://x', 'http://user:pw@127.0.0.1/x', 'http://169.254.169.254/latest', 'http://[::1]:80/', `http://127.0.0.1/${'x'.repeat(3000)}`, 'https://example.com/hook']) }
    if (rng.chance(0.5)) base.events = rng.pick<unknown>([[], ['NOPE'], Array(rng.chance(0.1) ? 5000 : 50).fill('ROLLOUT_FAILED'), 'ROLLOUT_FAILED', [null]])
    if (rng.chance(0.5)) base.secret = rng.pick(['', 'short', 'x'.repeat(257), '\u0000'.repeat(20), hostileString(rng)])
    if (rng.chance(0.5)) base.application = rng.pick(['', 'a'.repeat(64), 'nope', hostileString(rng)])
    if (rng.chance(0.3)) base.format = rng.pick(['XML', 'json', 'SLACK', 1])
    if (rng.chance(0.2)) base[rng.pick(['bogus', '__proto__', 'constructor'])] = { deep: { er: [1, 2, 3] } }
    if (rng.chance(0.1)) return { input: base, name }
    return base
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** The value with lone surrogates replaced (a GraphQL string literal cannot carry them). */
function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(LONE_SURROGATE, '\ufffd')
  if (Array.isArray(value)) return value.map(wellFormed)
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wellFormed(v)]))
  return value
}

/** A JS value as a GraphQL literal, or null when it cannot be written as one (the caller uses a variable). */
export function toLiteral(value: unknown, type: GraphQLInputType, depth = 0): string | null {
  if (depth > 60) return null
  const named = getNamedType(type)
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'string') {
    if (isEnumType(named) && NAME.test(value) && !['true', 'false', 'null'].includes(value)) return value
    return JSON.stringify(value)
  }
  if (typeof value === 'number') return Number.isFinite(value) ? String(Object.is(value, -0) ? 0 : value).replace('e+', 'e') : null
  if (typeof value === 'boolean') return String(value)
  if (Array.isArray(value)) {
    if (value.length > 2000) return null
    const items = value.map((item) => toLiteral(item, isListType(getNullableType(type)) ? (getNullableType(type) as { ofType: GraphQLInputType }).ofType : type, depth + 1))
    return items.includes(null) ? null : `[${items.join(', ')}]`
  }
  if (typeof value === 'object') {
    const entries: string[] = []
    for (const [key, item] of Object.entries(value)) {
      if (!NAME.test(key)) return null
      const fieldType = isInputObjectType(named) ? named.getFields()[key]?.type ?? type : type
      const literal = toLiteral(item, fieldType, depth + 1)
      if (literal === null) return null
      entries.push(`${key}: ${literal}`)
    }
    return `{${entries.join(', ')}}`
  }
  return null
}
