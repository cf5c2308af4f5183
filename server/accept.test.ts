import { describe, expect, it } from 'vitest'
import { acceptsGraphqlAnswer } from './accept.ts'

describe('acceptsGraphqlAnswer', () => {
  it.each([
    [undefined, true],
    ['', true],
    ['*/*', true],
    ['application/json', true],
    ['application/graphql-response+json, application/json;q=0.9', true],
    ['application/*', true],
    ['text/event-stream', true],
    ['multipart/mixed', true],
    ['text/*', true],
    ['text/html, application/xhtml+xml, */*;q=0.8', true],
    ['APPLICATION/JSON', true],
    ['application/json; charset=utf-8', true],
    ['application/xml', false],
    ['text/html', false],
    ['image/png, text/plain', false],
    ['application/json; charset=iso-8859-1', false],
    ['garbage', false],
    [';;;,,,', false],
  ])('%j → %s', (accept, expected) => {
    expect(acceptsGraphqlAnswer(accept)).toBe(expected)
  })
})
