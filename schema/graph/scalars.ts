import { GraphQLError, Kind, valueFromASTUntyped } from 'graphql'
import type { Json } from '../store/models.ts'
import { builder } from './builder.ts'

builder.scalarType('DateTime', {
  description: 'An instant in UTC, as an ISO-8601 string.',
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString()),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN)
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string')
    return date
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be an ISO-8601 string')
    const date = new Date(ast.value)
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string')
    return date
  },
})

builder.scalarType('JSON', {
  description: 'Any JSON value (objects, arrays, strings, numbers, booleans, null).',
  serialize: (value) => value,
  parseValue: (value) => value as Json,
  parseLiteral: (ast, variables) => valueFromASTUntyped(ast, variables ?? undefined) as Json,
})
