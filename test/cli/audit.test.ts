import { encodeGlobalID } from '@pothos/plugin-relay'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Rollout } from '../../schema/store/models.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { makeRollout } from '../support/store-fixtures.ts'
import { freePort } from '../support/rollouts.ts'
import { runCli, runMain, tempHome } from './run-cli.ts'

/** `sentra audit verify` against a real API server (SQLite); the store-level checks run on both dialects elsewhere. */
describe('sentra audit verify', () => {
  let api: TestApi
  let home: { home: string; dispose(): Promise<void> }
  let first: Rollout
  let second: Rollout
  const env = (token: string = api.tokens.admin) => ({ HOME: home.home, SENTRA_URL: api.url, SENTRA_TOKEN: token })
  const gid = (r: Rollout) => encodeGlobalID('Rollout', r.id)

  beforeAll(async () => {
    api = await startTestApi('sqlite')
    home = await tempHome()
    first = await makeRollout(api.store.db)
    second = await makeRollout(api.store.db)
    for (const rollout of [first, second]) {
      for (let seq = 1; seq <= 3; seq++) {
        await api.store.decisions.append({ rolloutId: rollout.id, seq, action: 'ADVANCE', actor: 'controller', reason: `step ${seq}`, stepIndex: seq, fromWeight: 0, toWeight: 5, evidence: {} })
      }
    }
  })
  afterAll(async () => {
    await api?.close()
    await home?.dispose()
  })

  it('exits 0 and says so when the log is intact', async () => {
    const result = await runCli(['audit', 'verify'], { env: env() })
    expect(result).toEqual({ code: 0, stdout: 'decision log intact: 6 decisions in 2 rollouts\n', stderr: '' })
  })

  it('--rollout prints the head hash; --output json prints the report', async () => {
    const [[, , last]] = (await api.store.decisions.for([first.id])) as [[unknown, unknown, { id: string }]]
    const table = await runMain(['audit', 'verify', '--rollout', gid(first)], { env: env() })
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(new RegExp(`^decision log intact: 3 decisions in 1 rollout\nhead: chain seq 3, decision ${last.id}, hash [0-9a-f]{64}\n$`))
    const result = await runMain(['audit', 'verify', '--rollout', gid(first), '-o', 'json'], { env: env() })
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({
      ok: true,
      rolloutsChecked: 1,
      decisionsChecked: 3,
      brokenRollouts: 0,
      firstBroken: null,
      head: { rolloutId: gid(first), chainSeq: 3, decisionId: last.id, hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    })
  })

  it('--batch N spreads the work over several requests with the same result', async () => {
    const batched = await runMain(['audit', 'verify', '--batch', '1', '-o', 'json'], { env: env() })
    const whole = await runMain(['audit', 'verify', '-o', 'json'], { env: env() })
    expect(batched.code).toBe(0)
    expect(JSON.parse(batched.stdout)).toEqual(JSON.parse(whole.stdout))
  })

  it('needs an admin token: FORBIDDEN, exit 1', async () => {
    const result = await runMain(['audit', 'verify'], { env: env(api.tokens.operate) })
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/^sentra: FORBIDDEN: /) })
  })

  it('an unknown rollout is NOT_FOUND (exit 1); a malformed one BAD_USER_INPUT', async () => {
    const missing = await runMain(['audit', 'verify', '--rollout', encodeGlobalID('Rollout', '00000000-0000-4000-8000-000000000000')], { env: env() })
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringMatching(/^sentra: NOT_FOUND: /) })
    const malformed = await runMain(['audit', 'verify', '--rollout', 'not-a-rollout'], { env: env() })
    expect(malformed).toMatchObject({ code: 1, stderr: expect.stringMatching(/^sentra: BAD_USER_INPUT: rollout: /) })
  })

  it.each([
    [['audit'], /^sentra: missing <subcommand>\n\nusage: sentra audit <subcommand> \[--rollout ID\] \[--batch N\]/],
    [['audit', 'fix'], /^sentra: unknown audit subcommand "fix"; use verify\n\nusage: sentra audit/],
    [['audit', 'verify', 'extra'], /^sentra: unexpected argument "extra"/],
    [['audit', 'verify', '--rollout'], /^sentra: --rollout needs a value \(ID\)/],
    [['audit', 'verify', '--rollout', ''], /^sentra: --rollout must not be empty/],
    [['audit', 'verify', '--rollout', 'x'.repeat(201)], /^sentra: --rollout is longer than 200 characters/],
    [['audit', 'verify', '--rollout', 'a\u001b[31mb'], /^sentra: --rollout may contain only printable ASCII/],
    [['audit', 'verify', '--full'], /^sentra: unknown flag --full for `sentra audit`/],
    [['audit', 'verify', '--batch', '0'], /^sentra: --batch must be a whole number from 1 to 100000, not "0"/],
    [['audit', 'verify', '--batch', '1e3'], /^sentra: --batch must be a whole number/],
    [['audit', 'verify', '--batch', '9'.repeat(40)], /^sentra: --batch must be a whole number/],
  ])('%j is a usage error (exit 2) and sends nothing', async (args, message) => {
    // A closed port: had anything been sent, the exit code would be 3.
    const result = await runMain(args, { env: { HOME: home.home, SENTRA_URL: `http://127.0.0.1:${await freePort()}`, SENTRA_TOKEN: api.tokens.admin } })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
  })

  it('an unreachable server is exit 3', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`
    const result = await runMain(['audit', 'verify'], { env: { HOME: home.home, SENTRA_URL: closed, SENTRA_TOKEN: api.tokens.admin } })
    expect(result.code).toBe(3)
  })

  it('exits 4 and prints the first broken link after a change behind the store', async () => {
    const [decisions = []] = await api.store.decisions.for([second.id])
    const target = decisions[1]!.id
    // A hostile value: the report must not pass terminal escapes through.
    await sql`UPDATE decisions SET reason = ${'all good \u001b[2J'} WHERE id = ${target}`.execute(api.store.db.kysely)
    const result = await runCli(['audit', 'verify'], { env: env() })
    expect(result.code).toBe(4)
    expect(result.stderr).toBe('')
    expect(result.stdout).toContain('decision log BROKEN: 1 rollout with a broken chain (6 decisions in 2 rollouts checked)\nfirst broken link:\n')
    expect(result.stdout).toContain(`  rollout    ${gid(second)}\n  chain seq  2\n  decision   ${target}\n  problem    HASH_MISMATCH\n`)
    expect(result.stdout).toContain(`rollout ${gid(second)}, decision ${target} at chain seq 2: stored hash does not match its contents`)
    expect(result.stdout).not.toContain('\u001b')

    const json = await runMain(['audit', 'verify', '--output', 'json', '--batch', '2'], { env: env() })
    expect(json.code).toBe(4)
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, brokenRollouts: 1, firstBroken: { rolloutId: gid(second), chainSeq: 2, decisionId: target, problem: 'HASH_MISMATCH' } })
    // The intact rollout still verifies on its own.
    expect((await runMain(['audit', 'verify', '--rollout', gid(first)], { env: env() })).code).toBe(0)
  })

  it('a deleted decision is reported as a sequence gap', async () => {
    const [decisions = []] = await api.store.decisions.for([first.id])
    await sql`DELETE FROM decisions WHERE id = ${decisions[1]!.id}`.execute(api.store.db.kysely)
    const result = await runMain(['audit', 'verify', '--rollout', gid(first), '-o', 'json'], { env: env() })
    expect(result.code).toBe(4)
    expect(JSON.parse(result.stdout).firstBroken).toMatchObject({ chainSeq: 3, decisionId: decisions[2]!.id, problem: 'SEQUENCE_GAP', expected: '2', actual: '3' })
  })
})
