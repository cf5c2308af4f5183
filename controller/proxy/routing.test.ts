import { describe, expect, it } from 'vitest'
import { chooseUpstream, type RouteHints } from './routing.ts'
import { sequence } from './test-upstreams.ts'

const stable = { version: 'v1', url: 'http://127.0.0.1:1' }
const canary = { version: 'v2', url: 'http://127.0.0.1:2' }
const none: RouteHints = { canaryHeader: undefined, stickyVersion: undefined }

/** Draws `n` choices and returns how many went to the canary. */
function canaryCount(weight: number, n: number, random: () => number, hints: RouteHints = none): number {
  let count = 0
  for (let i = 0; i < n; i++) if (chooseUpstream({ stable, canary, weight }, hints, random, true)?.upstream === canary) count++
  return count
}

describe('chooseUpstream', () => {
  it('sends exactly weight % of draws to the canary over an even sequence', () => {
    const even = sequence(Array.from({ length: 100 }, (_, i) => i / 100))
    expect(canaryCount(20, 2000, even)).toBe(400)
    expect(canaryCount(0, 1000, even)).toBe(0)
    expect(canaryCount(100, 1000, even)).toBe(1000)
    expect(canaryCount(2.5, 4000, sequence(Array.from({ length: 1000 }, (_, i) => i / 1000)))).toBe(100)
  })

  it('with one upstream, sends everything there (forced headers cannot create a version)', () => {
    const alwaysCanary = { canaryHeader: 'always', stickyVersion: undefined }
    expect(chooseUpstream({ stable, canary: null, weight: 100 }, alwaysCanary, Math.random, true)).toEqual({ upstream: stable, stick: false })
    expect(chooseUpstream({ stable: null, canary, weight: 0 }, { canaryHeader: 'never', stickyVersion: undefined }, Math.random, true)).toEqual({ upstream: canary, stick: false })
    expect(chooseUpstream({ stable: null, canary: null, weight: 50 }, none, Math.random, true)).toBeNull()
  })

  it('honours the canary header over weight and cookie, without moving the cookie', () => {
    for (const value of ['always', 'TRUE', '1', ' Always ']) {
      expect(chooseUpstream({ stable, canary, weight: 0 }, { canaryHeader: value, stickyVersion: 'v1' }, () => 0.99, true)).toEqual({ upstream: canary, stick: false })
    }
    for (const value of ['never', 'false', '0']) {
      expect(chooseUpstream({ stable, canary, weight: 100 }, { canaryHeader: value, stickyVersion: 'v2' }, () => 0, true)).toEqual({ upstream: stable, stick: false })
    }
    expect(chooseUpstream({ stable, canary, weight: 100 }, { canaryHeader: 'maybe', stickyVersion: undefined }, () => 0.5, true)?.upstream).toBe(canary)
  })

  it('follows a cookie naming a current version while 0 < weight < 100, and re-pins otherwise', () => {
    expect(chooseUpstream({ stable, canary, weight: 10 }, { canaryHeader: undefined, stickyVersion: 'v2' }, () => 0.99, true)).toEqual({ upstream: canary, stick: false })
    expect(chooseUpstream({ stable, canary, weight: 90 }, { canaryHeader: undefined, stickyVersion: 'v1' }, () => 0, true)).toEqual({ upstream: stable, stick: false })
    // a gone version is ignored and replaced
    expect(chooseUpstream({ stable, canary, weight: 10 }, { canaryHeader: undefined, stickyVersion: 'v0' }, () => 0.99, true)).toEqual({ upstream: stable, stick: true })
    // weight 0 empties the canary even for pinned clients (hold / rollback), and re-pins them
    expect(chooseUpstream({ stable, canary, weight: 0 }, { canaryHeader: undefined, stickyVersion: 'v2' }, () => 0, true)).toEqual({ upstream: stable, stick: true })
    // no cookie: the draw decides and pins
    expect(chooseUpstream({ stable, canary, weight: 50 }, none, () => 0.1, true)).toEqual({ upstream: canary, stick: true })
    // stickiness off: never pins, never follows
    expect(chooseUpstream({ stable, canary, weight: 50 }, { canaryHeader: undefined, stickyVersion: 'v1' }, () => 0.1, false)).toEqual({ upstream: canary, stick: false })
  })
})
