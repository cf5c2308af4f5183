/** zod building blocks for the spec: strict objects with helpful unknown-key messages,
 * exactly-one groups, derived fields, durations, DNS names, and the error map. */
import * as z from 'zod'
import { parseDuration } from './duration.ts'
import { describeValue } from './input.ts'
import { didYouMean } from './path.ts'
import { TARGET_TEMPLATES, checkDuration, dnsNameProblem, templateProblem, type DnsRule } from './rules.ts'

export type Key = string | number
export type Ctx = z.core.$RefinementCtx<unknown>

export function report(ctx: Ctx, path: Key[], message: string): void {
  ctx.addIssue({ code: 'custom', message, path, input: undefined })
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * zod skips a parent's refinements once a child has a type error. Ours read defensively, so
 * they run whenever the value has the right shape at this level, and all issues come at once.
 */
export const ifObject = { when: (payload: z.core.ParsePayload) => isRecord(payload.value) }
export const ifArray = { when: (payload: z.core.ParsePayload) => Array.isArray(payload.value) }

/** Reads a field of possibly-invalid data without trusting its type. */
export function field(value: unknown, key: string): unknown {
  return isRecord(value) && Object.hasOwn(value, key) ? value[key] : undefined
}

// ---------------------------------------------------------------------------------------------
// Objects: strict keys with "did you mean", exactly-one / at-least-one groups, derived fields.

interface ObjRules {
  /** Exactly one of these keys must be present. */
  oneOf?: { keys: readonly string[]; none: string; many: (found: string[]) => string }
  /** At least one of these keys must be present. */
  anyOf?: { keys: readonly string[]; none: string }
  /** Derived millisecond fields and the duration field each mirrors, e.g. { minMs: 'min' }. */
  derived?: Readonly<Record<string, string>>
  /** Why a key that belongs to a sibling variant is wrong here, e.g. { image: 'is used with kind: docker' }. */
  elsewhere?: Readonly<Record<string, string>>
  /** How to word "not a mapping" for this object, e.g. 'write "pause: {}" to wait for a person'. */
  mappingHint?: string
}

function unknownKeyMessage(key: string, known: readonly string[], rules: ObjRules): string {
  const shown = JSON.stringify(key.length > 40 ? `${key.slice(0, 37)}...` : key)
  const elsewhere = rules.elsewhere?.[key]
  if (elsewhere !== undefined) return `unknown field ${shown} here: ${key} ${elsewhere}`
  const near = didYouMean(key, known)
  if (near !== undefined) return `unknown field ${shown}; did you mean "${near}"?`
  return `unknown field ${shown}; expected ${known.length === 1 ? '' : 'one of '}${known.join(', ')}`
}

export function obj<S extends z.core.$ZodLooseShape>(shape: S, rules: ObjRules = {}) {
  const derived = rules.derived ?? {}
  const known = Object.keys(shape).filter((key) => !Object.hasOwn(derived, key))
  const params = rules.mappingHint === undefined
    ? undefined
    : {
        error: (iss: z.core.$ZodRawIssue) =>
          iss.code === 'invalid_type' && iss.input !== undefined ? `must be a mapping (got ${describeValue(iss.input)}); ${rules.mappingHint}` : undefined,
      }
  return z.looseObject(shape, params).superRefine((value, ctx) => {
    const record = value as Record<string, unknown>
    const unknownKeys = Object.keys(record).filter((key) => !Object.hasOwn(shape, key))
    for (const key of unknownKeys) report(ctx, [key], unknownKeyMessage(key, known, rules))
    const present = (key: string): boolean => record[key] !== undefined
    if (rules.oneOf) {
      const found = rules.oneOf.keys.filter(present)
      if (found.length === 0 && unknownKeys.length === 0) report(ctx, [], rules.oneOf.none)
      if (found.length > 1) report(ctx, [], rules.oneOf.many(found))
    }
    if (rules.anyOf && unknownKeys.length === 0 && !rules.anyOf.keys.some(present)) report(ctx, [], rules.anyOf.none)
    for (const [msKey, sourceKey] of Object.entries(derived)) {
      if (!present(msKey)) continue
      const source = record[sourceKey]
      if (typeof source !== 'string') {
        report(ctx, [msKey], `is derived from ${sourceKey}; write ${sourceKey} (a duration such as "30s") instead`)
        continue
      }
      let ms: number | undefined
      try {
        ms = parseDuration(source)
      } catch {
        continue // the source field reports its own problem
      }
      if (record[msKey] !== ms) report(ctx, [msKey], `does not match ${sourceKey} ("${source}" is ${ms} ms); remove ${msKey}`)
    }
  }, ifObject)
}

// ---------------------------------------------------------------------------------------------
// Scalars

export const text = (max: number, what = 'characters') =>
  z.string().min(1, 'must not be empty').max(max, `must be at most ${max} ${what}`)

export const dnsName = (rule: DnsRule) =>
  z.string().superRefine((value, ctx) => {
    const problem = dnsNameProblem(value, rule)
    if (problem !== undefined) report(ctx, [], problem)
  })

export const intBetween = (min: number, max: number) => {
  const range = `must be a whole number between ${min} and ${max}`
  return z.number().int(range).min(min, range).max(max, range)
}

export const weight = z.number().int('must be a whole number between 0 and 100').min(0, 'must be between 0 and 100').max(100, 'must be between 0 and 100')
export const port = intBetween(1, 65535)
export const inconclusiveLimit = intBetween(1, 1000)
export const derivedMs = z.number().optional()

export function duration(bounds: { minMs?: number; maxMs?: number; positive?: boolean } = {}) {
  return z
    .string({
      error: (iss) =>
        iss.code === 'invalid_type' && iss.input !== undefined
          ? typeof iss.input === 'number'
            ? `must be a duration with a unit, such as "${iss.input}s" (got the number ${iss.input})`
            : `must be a duration such as "30s" (got ${describeValue(iss.input)})`
          : undefined,
    })
    .superRefine((value, ctx) => {
      const checked = checkDuration(value, bounds)
      if ('problem' in checked) report(ctx, [], checked.problem)
    })
}

export const templated = (max: number, allowEmpty = false) =>
  (allowEmpty ? z.string().max(max, `must be at most ${max} characters`) : text(max)).superRefine((value, ctx) => {
    const problem = templateProblem(value, TARGET_TEMPLATES, true)
    if (problem !== undefined) report(ctx, [], problem)
  })

export const PERCENT = /^(\d+(?:\.\d+)?) ?%$/

/** A number, or for fraction signals a percentage string such as "2%". */
export const numberOrPercent = z.union(
  [z.number(), z.string().regex(PERCENT, 'must be a number (or, for fractions, a percentage such as "2%")')],
  { error: (iss) => (iss.input === undefined ? undefined : `must be a number (got ${describeValue(iss.input)})`) },
)

/** The number a judge field stands for: "2%" -> 0.02. */
export function judgeNumber(value: number | string): number {
  if (typeof value === 'number') return value
  const match = PERCENT.exec(value)
  return match ? Number(match[1]) / 100 : Number.NaN
}

export function enumOf<const T extends readonly [string, ...string[]]>(values: T, noun: string) {
  return z.enum(values, {
    error: (iss) => {
      if (iss.input === undefined) return `is required; one of ${values.join(', ')}`
      const near = typeof iss.input === 'string' ? didYouMean(iss.input, values) : undefined
      const hint = near !== undefined ? `; did you mean "${near}"?` : ''
      return `must be ${noun}: ${values.join(', ')} (got ${describeValue(iss.input)})${hint}`
    },
  })
}

/** `z.discriminatedUnion` on `kind`, with a plain message for a missing or unknown kind. */
export function byKind<const T extends readonly [z.core.$ZodTypeDiscriminable, ...z.core.$ZodTypeDiscriminable[]]>(
  kinds: readonly string[],
  options: T,
) {
  return z.discriminatedUnion('kind', options, {
    error: (iss) => {
      if (iss.code !== 'invalid_union') return undefined
      const kind = field(iss.input, 'kind')
      if (kind === undefined) return `is required; one of ${kinds.join(', ')}`
      const near = typeof kind === 'string' ? didYouMean(kind, kinds) : undefined
      const hint = near !== undefined ? `; did you mean "${near}"?` : ''
      return `must be one of ${kinds.join(', ')} (got ${describeValue(kind)})${hint}`
    },
  })
}

// ---------------------------------------------------------------------------------------------
// Wording of zod's own issues

/** Plain-English messages for issues the schemas above do not word themselves. */
export const errorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type': {
      if (iss.input === undefined) return 'is required'
      const got = describeValue(iss.input)
      switch (iss.expected) {
        case 'string':
          return typeof iss.input === 'number' || typeof iss.input === 'boolean'
            ? `must be a string (got ${got}; quote it in YAML: "${String(iss.input)}")`
            : `must be a string (got ${got})`
        case 'number':
          return `must be a number (got ${got})`
        case 'int':
          return `must be a whole number (got ${got})`
        case 'boolean':
          return `must be true or false (got ${got})`
        case 'object':
        case 'record':
          return `must be a mapping (got ${got})`
        case 'array':
          return `must be a list (got ${got})`
        default:
          return `must be ${iss.expected} (got ${got})`
      }
    }
    case 'too_small':
      if (iss.origin === 'string') return Number(iss.minimum) <= 1 ? 'must not be empty' : `must be at least ${iss.minimum} characters`
      if (iss.origin === 'array') return `must have at least ${iss.minimum} items`
      return `must be ${iss.inclusive === false ? 'greater than' : 'at least'} ${iss.minimum}`
    case 'too_big':
      if (iss.origin === 'string') return `must be at most ${iss.maximum} characters`
      if (iss.origin === 'array') return `must have at most ${iss.maximum} items`
      return `must be ${iss.inclusive === false ? 'less than' : 'at most'} ${iss.maximum}`
    case 'invalid_value':
      return iss.values.length === 1
        ? `must be ${JSON.stringify(iss.values[0])} (got ${describeValue(iss.input)})`
        : `must be one of ${iss.values.map(String).join(', ')} (got ${describeValue(iss.input)})`
    case 'invalid_union':
      return `is not valid (got ${describeValue(iss.input)})`
    case 'invalid_format':
      return `is not in the expected format (got ${describeValue(iss.input)})`
    case 'invalid_key':
      return 'has an invalid key'
    case 'unrecognized_keys':
      return `has unknown fields: ${iss.keys.join(', ')}`
    default:
      return undefined
  }
}
