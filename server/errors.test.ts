import { GraphQLError } from 'graphql'
import { createSchema, createYoga } from 'graphql-yoga'
import { describe, expect, it, vi } from 'vitest'
import { maskError } from './errors.ts'

/** A yoga with our error masking, over a one-field schema. */
function maskedYoga() {
  return createYoga({
    schema: createSchema({ typeDefs: 'type Query { hello(name: String): String }', resolvers: { Query: { hello: (_r, { name }: { name?: string }) => `hi ${name ?? ''}` } } }),
    logging: false,
    maskedErrors: { maskError: (error, message) => maskError(error, message) },
  })
}

describe('maskError', () => {
  it('answers bad JSON in GET variables or extensions as the client\'s error (400), not an internal one (found by the fuzz test)', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const yoga = maskedYoga()
    for (const search of ['variables=%7B', 'variables=%25%7B', 'extensions=nope', 'variables=%7B%22a%22%3A']) {
      const response = await yoga.fetch(`http://localhost/graphql?query=%7Bhello%7D&${search}`, { headers: { accept: 'application/json' } })
      const body = (await response.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] }
      expect(response.status, search).toBe(400)
      expect(body.errors[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT' })
      expect(body.errors[0]?.message).toMatch(/not JSON/)
    }
    const form = await yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: 'query=%7Bhello%7D&variables=%7Bx',
    })
    expect(form.status).toBe(400)
    expect(logged).not.toHaveBeenCalled()
    logged.mockRestore()
  })

  it('still masks a resolver\'s own SyntaxError as an unexpected error', () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const wrapped = new GraphQLError('Unexpected token', { originalError: new SyntaxError('Unexpected token') })
    const masked = maskError(wrapped, 'Unexpected error.') as GraphQLError
    expect(masked.extensions.code).toBe('INTERNAL_SERVER_ERROR')
    expect(logged).toHaveBeenCalledOnce()
    logged.mockRestore()
  })
})
