import { describe, expect, it } from 'vitest'
import { planShare, shouldTake } from './balance.ts'

describe('planShare', () => {
  it.each([
    // active, members, held → share, slack, release
    [{ active: 30, members: 3, held: 0 }, { share: 10, slack: 1, release: 0 }],
    [{ active: 30, members: 3, held: 11 }, { share: 10, slack: 1, release: 0 }],
    // Everything taken before the others announced themselves: give back a few per scan.
    [{ active: 30, members: 3, held: 30 }, { share: 10, slack: 1, release: 1 }],
    [{ active: 31, members: 3, held: 11 }, { share: 11, slack: 1, release: 0 }],
    // A fourth controller joins: the others are above 8 + 1 and give back.
    [{ active: 30, members: 4, held: 10 }, { share: 8, slack: 1, release: 1 }],
    // At scale the slack and the moves per scan grow with the share.
    [{ active: 1000, members: 3, held: 1000 }, { share: 334, slack: 16, release: 34 }],
    [{ active: 1000, members: 3, held: 345 }, { share: 334, slack: 16, release: 0 }],
    [{ active: 1000, members: 3, held: 360 }, { share: 334, slack: 16, release: 10 }],
    // Alone: everything is ours.
    [{ active: 7, members: 1, held: 7 }, { share: 7, slack: 1, release: 0 }],
    // The membership read failed and nothing is known: act as if alone, never take nothing.
    [{ active: 7, members: 0, held: 0 }, { share: 7, slack: 1, release: 0 }],
    [{ active: 0, members: 3, held: 0 }, { share: 0, slack: 1, release: 0 }],
    // Rollouts ended while held: more members than rollouts.
    [{ active: 2, members: 5, held: 2 }, { share: 1, slack: 1, release: 0 }],
    [{ active: 2, members: 5, held: 3 }, { share: 1, slack: 1, release: 1 }],
    // Within the slack, but a controller that just joined holds fewer than share − slack: down to the share.
    [{ active: 30, members: 3, held: 11, fewestHeld: 8 }, { share: 10, slack: 1, release: 1 }],
    [{ active: 30, members: 3, held: 10, fewestHeld: 0 }, { share: 10, slack: 1, release: 0 }],
    [{ active: 30, members: 3, held: 11, fewestHeld: 9 }, { share: 10, slack: 1, release: 0 }],
    [{ active: 1000, members: 4, held: 340, fewestHeld: 0 }, { share: 250, slack: 12, release: 25 }],
    [{ active: 1000, members: 4, held: 255, fewestHeld: 200 }, { share: 250, slack: 12, release: 5 }],
    [{ active: 30, members: 3, held: 11, fewestHeld: null }, { share: 10, slack: 1, release: 0 }],
  ])('%j → %j', (input, expected) => {
    expect(planShare(input)).toEqual(expected)
  })

  it('refuses counts that are not whole numbers ≥ 0', () => {
    expect(() => planShare({ active: -1, members: 1, held: 0 })).toThrow(/active must be a whole number/)
    expect(() => planShare({ active: 3, members: 1.5, held: 0 })).toThrow(/members must be a whole number/)
    expect(() => planShare({ active: 3, members: 1, held: Number.NaN })).toThrow(/held must be a whole number/)
    expect(() => planShare({ active: 3, members: 2, held: 1, fewestHeld: -2 })).toThrow(/fewestHeld must be a whole number/)
  })

  it('shares add up to at least every active rollout, so none is left without a taker', () => {
    for (let active = 0; active <= 50; active++) {
      for (let members = 1; members <= 7; members++) {
        expect(planShare({ active, members, held: 0 }).share * members).toBeGreaterThanOrEqual(active)
      }
    }
  })
})

describe('shouldTake', () => {
  it.each([
    [{ held: 3, share: 10, freeScans: 1 }, true],
    [{ held: 10, share: 10, freeScans: 1 }, false],
    // Free for a second scan in a row: taken whatever the (possibly stale) share says.
    [{ held: 10, share: 10, freeScans: 2 }, true],
    [{ held: 25, share: 10, freeScans: 3 }, true],
    [{ held: 0, share: 0, freeScans: 1 }, false],
  ])('%j → %s', (input, expected) => {
    expect(shouldTake(input)).toBe(expected)
  })
})
