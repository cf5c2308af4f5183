import { encodeGlobalID } from '@pothos/plugin-relay'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Rollout } from '../../schema/store/models.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { DIALECTS } from '../support/databases.ts'
import { makeRollout } from '../support/store-fixtures.ts'

const VERIFY = `query ($rollout: ID, $after: String, $limit: Int) {
  auditVerify(rollout: $rollout, after: $after, limit: $limit) {
    ok rolloutsChecked decisionsChecked brokenRollouts
    firstBroken { rolloutId chainSeq decisionId problem expected actual message }
    head { rolloutId chainSeq decisionId hash }
    next
  }
}`

interface Report {
  ok: boolean
  rolloutsChecked: number
  decisionsChecked: number
  brokenRollouts: number
  firstBroken: { rolloutId: string; chainSeq: number; decisionId: string; problem: string; expected: string; actual: string; message: string } | null
  head: { rolloutId: string; chainSeq: number; decisionId: string; hash: string } | null
  next: string | null
}

describe.each(DIALECTS)('Query.auditVerify on %s', (dialect) => {
  let api: TestApi
  let first: Rollout
  let second: Rollout
  const gid = (r: Rollout) => encodeGlobalID('Rollout', r.id)

  beforeAll(async () => {
    api = await startTestApi(dialect)
    first = await makeRollout(api.store.db)
    second = await makeRollout(api.store.db)
    for (const rollout of [first, second]) {
      for (let seq = 1; seq <= 3; seq++) {
        await api.store.decisions.append({ rolloutId: rollout.id, seq, action: 'ADVANCE', actor: 'controller', reason: `step ${seq}`, stepIndex: seq, fromWeight: 0, toWeight: 5, evidence: { gates: [] } })
      }
    }
  })
  afterAll(async () => api?.close())

  const verify = async (variables: Record<string, unknown> = {}, token?: string | null) => api.gql<{ auditVerify: Report }>(VERIFY, variables, token)

  it('reports an intact log, and the head of one rollout', async () => {
    const all = await verify()
    expect(all.errors).toBeUndefined()
    expect(all.data?.auditVerify).toEqual({ ok: true, rolloutsChecked: 2, decisionsChecked: 6, brokenRollouts: 0, firstBroken: null, head: null, next: null })
    const one = await verify({ rollout: gid(first) })
    const [[, , last]] = (await api.store.decisions.for([first.id])) as [[unknown, unknown, { id: string }]]
    expect(one.data?.auditVerify).toMatchObject({ ok: true, rolloutsChecked: 1, decisionsChecked: 3, head: { rolloutId: gid(first), chainSeq: 3, decisionId: last.id, hash: expect.stringMatching(/^[0-9a-f]{64}$/) } })
  })

  it('with `limit`, checks the log over several calls that add up', async () => {
    let after: string | null = null
    const parts: Report[] = []
    do {
      const result = await verify({ limit: 4, after })
      expect(result.errors).toBeUndefined()
      parts.push(result.data!.auditVerify)
      after = result.data!.auditVerify.next
    } while (after !== null && parts.length < 10)
    expect(parts.map((p) => p.decisionsChecked)).toEqual([4, 2])
    expect(parts.reduce((n, p) => n + p.rolloutsChecked, 0)).toBe(2)
    // One rollout, one decision per call: the head follows.
    const first1 = (await verify({ rollout: gid(first), limit: 1 })).data!.auditVerify
    expect(first1).toMatchObject({ decisionsChecked: 1, head: { chainSeq: 1 }, next: expect.any(String) })
    const rest = (await verify({ rollout: gid(first), after: first1.next })).data!.auditVerify
    expect(rest).toMatchObject({ ok: true, rolloutsChecked: 0, decisionsChecked: 2, head: { chainSeq: 3 }, next: null })
    const elsewhere = await verify({ rollout: gid(second), after: first1.next })
    expect(elsewhere.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'after' })
  })

  it.each([
    ['garbage', 'not a cursor!'],
    ['base64 of something else', Buffer.from('{"v":2}').toString('base64url')],
    ['a cursor with a bad hash', Buffer.from(JSON.stringify({ v: 1, r: '00000000-0000-4000-8000-000000000000', s: 1, d: 'x', h: 'zz', b: false })).toString('base64url')],
    ['a cursor with a negative seq', Buffer.from(JSON.stringify({ v: 1, r: '00000000-0000-4000-8000-000000000000', s: -1, d: 'x', h: '0'.repeat(64), b: false })).toString('base64url')],
    ['an oversized cursor', 'A'.repeat(100_000)],
    ['an empty cursor', ''],
  ])('refuses %s as `after` with BAD_USER_INPUT', async (_name, after) => {
    const result = await verify({ after })
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'after' })
  })

  it.each([0, -1, 100_001])('refuses limit %s with BAD_USER_INPUT', async (limit) => {
    const result = await verify({ limit })
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'limit' })
  })

  it('needs an admin token', async () => {
    for (const token of [api.tokens.read, api.tokens.operate]) {
      const refused = await verify({}, token)
      expect(refused.data ?? null).toBeNull()
      expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
    }
    expect((await verify({}, null)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
  })

  it.each([
    ['not an id', 'nonsense'],
    ['an id of another type', encodeGlobalID('Application', '00000000-0000-4000-8000-000000000000')],
    ['an oversized id', 'x'.repeat(10_000)],
    ['an empty id', ''],
  ])('refuses %s with BAD_USER_INPUT naming the argument', async (_name, rollout) => {
    const result = await verify({ rollout })
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: 'rollout' })
  })

  it('a rollout that does not exist is NOT_FOUND', async () => {
    const result = await verify({ rollout: encodeGlobalID('Rollout', '00000000-0000-4000-8000-000000000000') })
    expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND')
  })

  it('reports the first broken link after a change behind the store', async () => {
    const [decisions = []] = await api.store.decisions.for([second.id])
    await sql`UPDATE decisions SET actor = ${'someone else'} WHERE id = ${decisions[1]!.id}`.execute(api.store.db.kysely)
    const all = (await verify()).data?.auditVerify
    expect(all).toMatchObject({ ok: false, rolloutsChecked: 2, decisionsChecked: 6, brokenRollouts: 1 })
    expect(all?.firstBroken).toMatchObject({ rolloutId: gid(second), chainSeq: 2, decisionId: decisions[1]!.id, problem: 'HASH_MISMATCH' })
    expect(all?.firstBroken?.message).toContain(`rollout ${gid(second)}, decision ${decisions[1]!.id} at chain seq 2`)
    // The other rollout still verifies on its own.
    expect((await verify({ rollout: gid(first) })).data?.auditVerify.ok).toBe(true)
  })
})
