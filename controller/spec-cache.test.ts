import { describe, expect, it } from 'vitest'
import { SpecError } from '../schema/spec.ts'
import { SpecCache } from './spec-cache.ts'

const doc = (weight: number) => ({
  name: 'checkout',
  target: { kind: 'process', listen: '127.0.0.1:8080', command: ['node', 'app.mjs'] },
  strategy: { canary: { steps: [{ setWeight: weight }] } },
})

describe('SpecCache', () => {
  it('validates a stored spec once and answers the same object while it is unchanged', () => {
    const cache = new SpecCache()
    const first = cache.specOf('app-1', JSON.stringify(doc(10)))
    expect(cache.specOf('app-1', JSON.stringify(doc(10)))).toBe(first)
  })

  it('validates again as soon as the stored document changes', () => {
    const cache = new SpecCache()
    const first = cache.specOf('app-1', JSON.stringify(doc(10)))
    const second = cache.specOf('app-1', JSON.stringify(doc(20)))
    expect(second).not.toBe(first)
    expect(second.strategy.canary?.steps[0]).toMatchObject({ setWeight: 20 })
  })

  it('throws SpecError for an invalid spec and caches nothing for it', () => {
    const cache = new SpecCache()
    const good = cache.specOf('app-1', JSON.stringify(doc(10)))
    expect(() => cache.specOf('app-1', JSON.stringify(doc(250)))).toThrow(SpecError)
    expect(() => cache.specOf('app-1', JSON.stringify({ name: '' }))).toThrow(SpecError)
    expect(cache.specOf('app-1', JSON.stringify(doc(10)))).toBe(good)
  })

  it('from the stored text: parses once, answers the same object while the text is unchanged', () => {
    const cache = new SpecCache()
    const first = cache.specOf('app-1', JSON.stringify(doc(10)))
    expect(cache.specOf('app-1', JSON.stringify(doc(10)))).toBe(first)
    const changed = cache.specOf('app-1', JSON.stringify(doc(20)))
    expect(changed).not.toBe(first)
    expect(changed.strategy.canary?.steps[0]).toMatchObject({ setWeight: 20 })
  })

  it('from the stored text: damaged or invalid text is a SpecError and leaves the cached spec alone', () => {
    const cache = new SpecCache()
    const good = cache.specOf('app-1', JSON.stringify(doc(10)))
    for (const text of ['{"name":', '', 'null', '[]', '"checkout"', JSON.stringify(doc(250))]) {
      expect(() => cache.specOf('app-1', text)).toThrow(SpecError)
    }
    expect(() => cache.specOf('app-1', '{"name":')).toThrow(/the stored spec is not JSON/)
    expect(cache.specOf('app-1', JSON.stringify(doc(10)))).toBe(good)
  })

  it('keeps applications apart and holds at most its capacity', () => {
    const cache = new SpecCache(2)
    const a = cache.specOf('a', JSON.stringify(doc(10)))
    cache.specOf('b', JSON.stringify(doc(10)))
    cache.specOf('c', JSON.stringify(doc(10)))
    // a was the oldest: validated (and made) again.
    expect(cache.specOf('a', JSON.stringify(doc(10)))).not.toBe(a)
    expect(() => new SpecCache(0)).toThrow(/positive integer/)
  })
})
