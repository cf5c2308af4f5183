/**
 * The fuzz test (issue #9): thousands of generated and mutated GraphQL documents, application
 * specs and raw HTTP bodies against a real API server, over HTTP and graphql-ws. It checks
 * that no answer is a 5xx or an internal error, that the server stays up, and that no
 * rejected request changed the store. See docs/security.md ("Fuzzing").
 *
 * SENTRA_FUZZ_SEED reproduces a run; SENTRA_FUZZ_COUNT, SENTRA_FUZZ_WS_COUNT,
 * SENTRA_FUZZ_CONCURRENCY and SENTRA_FUZZ_DIALECTS (sqlite,mysql) size it.
 */
import { randomBytes } from 'node:crypto'
import { createClient, type Client } from 'graphql-ws'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { graphSchema } from '../../schema/graph/index.ts'
import type { DialectName } from '../../schema/store/connect.ts'
import { demoSpec, startTestApi, type TestApi } from '../support/api.ts'
import { generateCase, type CaseContext, type FuzzCase } from './cases.ts'
import type { Known } from './hostile.ts'
import { envCount, fuzzSeed, Rng } from './prng.ts'
import { describe as describeError, pool, sendGraphql, sendRaw, sendWs, showCase, type Outcome } from './send.ts'
import { StateProbe, type Snapshot } from './state.ts'
import { rawWsFrame } from './ws-frames.ts'

const SEED = fuzzSeed()
const COUNT = envCount('SENTRA_FUZZ_COUNT', 10_000)
const WS_COUNT = envCount('SENTRA_FUZZ_WS_COUNT', 1_000)
const RAW_WS_COUNT = envCount('SENTRA_FUZZ_RAW_WS_COUNT', 200)
const CONCURRENCY = Math.max(1, envCount('SENTRA_FUZZ_CONCURRENCY', 4))
const BATCH = 48
const DIALECTS = (process.env.SENTRA_FUZZ_DIALECTS ?? 'sqlite').split(',').map((d) => d.trim()).filter(Boolean) as DialectName[]
/** What the server may print on console.error while being fuzzed that means it failed. */
const SERVER_FAILURE = /unexpected error while answering GraphQL|request failed|uncaught|unhandled/i

/**
 * Findings already reported and left to the part of the code that owns them (see
 * docs/security.md, "Fuzzing"): counted and printed, not failed on, unless SENTRA_FUZZ_STRICT=1.
 * Remove an entry once its fix lands.
 */
// Empty: the three findings of the first runs are fixed (a throwing validate on graphql-ws,
// parser stack overflow on nested lists, a mutation run before a 406 on its Accept).
const KNOWN_ISSUES: readonly { matches: (finding: Finding) => boolean; why: string }[] = []
const STRICT = process.env.SENTRA_FUZZ_STRICT === '1'

interface Finding {
  what: string
  /** The HTTP status of the answer, when there was one. */
  status?: number | null
  case?: string
  answer?: string
}

/** Rejects when `promise` takes longer than `ms`: a hung server must fail the test, not stall it. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms (the server or its store hangs)`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Progress on stderr (SENTRA_FUZZ_PROGRESS=1), so a long run shows where it is. */
function progress(line: string): void {
  if (process.env.SENTRA_FUZZ_PROGRESS === '1') process.stderr.write(`${new Date().toISOString()} ${line}\n`)
}

function diffCounts(before: Snapshot, after: Snapshot): string {
  const changed = Object.keys(after.counts).filter((t) => after.counts[t] !== before.counts[t]).map((t) => `${t} ${before.counts[t]}→${after.counts[t]}`)
  return changed.length > 0 ? changed.join(', ') : 'same row counts, different contents'
}

/** Real state for the generators to aim at: applications, active and finished rollouts, a policy, a provider, a webhook, spare tokens. */
async function seedState(api: TestApi): Promise<Known> {
  const gql = async (query: string, variables?: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const result = await api.gql(query, variables)
    if (result.errors) throw new Error(`fixture failed: ${JSON.stringify(result.errors)}`)
    return result.data as Record<string, unknown>
  }
  const known: Known = { applications: [], rolloutIds: [], applicationIds: [], tokenIds: [], webhookIds: [], policies: [], providers: [] }
  await gql(`mutation($spec: JSON!) { applyPolicy(spec: $spec) { name } }`, {
    spec: { name: 'fz-policy', strategy: { canary: { steps: [{ setWeight: 10 }, { analyze: { min: '30s' } }] } }, gates: [{ name: 'errors', signal: 'errorRate', judge: { kind: 'sequential', alpha: 0.01 } }] },
  })
  known.policies.push('fz-policy')
  await gql(`mutation($spec: JSON!) { applyProvider(spec: $spec) { name } }`, { spec: { name: 'fz-prom', kind: 'prometheus', url: 'http://127.0.0.1:9' } })
  known.providers.push('fz-prom')
  for (const name of ['fz-a', 'fz-b', 'fz-c', 'fz-policy-app']) {
    const spec = name === 'fz-policy-app' ? { ...demoSpec(name), strategy: undefined, gates: undefined, policy: 'fz-policy' } : demoSpec(name)
    const applied = await gql(`mutation($spec: JSON!) { applyApplication(spec: $spec) { id name } }`, { spec: JSON.parse(JSON.stringify(spec)) })
    known.applications.push(name)
    known.applicationIds.push((applied.applyApplication as { id: string }).id)
  }
  for (const [app, version] of [['fz-a', 'v2'], ['fz-b', 'v7']] as const) {
    const started = await gql(`mutation { startRollout(application: "${app}", version: "${version}") { id } }`)
    known.rolloutIds.push((started.startRollout as { id: string }).id)
  }
  // A finished rollout too: commands on it are refused with CONFLICT.
  const done = await gql(`mutation { startRollout(application: "fz-c", version: "v1") { id } }`)
  const doneId = (done.startRollout as { id: string }).id
  await api.store.rollouts.update(Buffer.from(doneId, 'base64').toString().split(':')[1]!, { status: 'SUCCEEDED', finishedAt: new Date() })
  known.rolloutIds.push(doneId)
  const hook = await gql(`mutation { createWebhookSubscription(input: { url: "http://127.0.0.1:9/hook" }) { subscription { id } } }`)
  known.webhookIds.push((hook.createWebhookSubscription as { subscription: { id: string } }).subscription.id)
  for (let i = 0; i < 3; i++) {
    const created = await gql(`mutation { createApiToken(name: "fz spare ${i}", scope: READ) { apiToken { id } } }`)
    known.tokenIds.push((created.createApiToken as { apiToken: { id: string } }).apiToken.id)
  }
  return known
}

for (const dialect of DIALECTS) {
  describe(`fuzzing the API (${dialect}, seed ${SEED})`, () => {
    let api: TestApi
    let ctx: CaseContext
    let token: string
    const findings: Finding[] = []
    const serverErrors: string[] = []
    const stats = { sent: 0, accepted: 0, checkedRejected: 0, byFamily: {} as Record<string, number>, byStatus: {} as Record<string, number>, msByFamily: {} as Record<string, number>, slowest: [] as { ms: number; c: string }[] }
    const onCrash = (error: unknown): void => {
      findings.push({ what: `uncaught in the server process: ${describeError(error)}` })
    }

    beforeAll(async () => {
      // No rate limit: createApiServer has none unless given one (SENTRA_RATE_LIMIT is read by the process's config only).
      api = await startTestApi(dialect)
      // A stand-in controller that answers dry runs at once (else startRollout waits 8 s for one).
      await api.bus.subscribe('preflight.request', async (request) => {
        await api.bus.publish('preflight.reply', { requestId: request.requestId, responder: 'fuzz', issues: [], at: new Date().toISOString() })
      })
      const known = await seedState(api)
      // A chosen admin token (as SENTRA_ADMIN_TOKEN is) is looked up by its sha256; issued tokens
      // cost a scrypt per request, which would make this test slow without testing anything more.
      token = `fuzz-admin-${randomBytes(16).toString('hex')}`
      await api.store.tokens.create('fuzz admin', 'admin', { token })
      ctx = { schema: graphSchema(), known, token }
      process.on('uncaughtException', onCrash)
      process.on('unhandledRejection', onCrash)
      vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
        serverErrors.push(args.map((a) => (a instanceof Error ? `${a.stack ?? a.message}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' ').slice(0, 2000))
      })
    })

    afterAll(async () => {
      vi.restoreAllMocks()
      process.off('uncaughtException', onCrash)
      process.off('unhandledRejection', onCrash)
      await api?.close()
    })

    async function timed(c: FuzzCase, send: (c: FuzzCase) => Promise<Outcome>): Promise<Outcome> {
      const started = performance.now()
      if (c.index % 500 === 0) progress(`[fuzz ${dialect}] case ${c.index} (${c.family})`)
      const outcome = await within(send(c), 60_000, showCase(c, 300))
      const ms = performance.now() - started
      stats.msByFamily[c.family] = Math.round((stats.msByFamily[c.family] ?? 0) + ms)
      if (stats.slowest.length < 5 || ms > stats.slowest[stats.slowest.length - 1]!.ms) {
        stats.slowest.push({ ms: Math.round(ms), c: showCase(c, 200) })
        stats.slowest.sort((a, b) => b.ms - a.ms).splice(5)
      }
      return outcome
    }

    function record(c: FuzzCase, outcome: Outcome): void {
      stats.sent++
      stats.byFamily[c.family] = (stats.byFamily[c.family] ?? 0) + 1
      const status = outcome.status === null ? 'ws' : String(outcome.status)
      stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1
      if (outcome.accepted && c.mayWrite) stats.accepted++
      if (outcome.problem) findings.push({ what: outcome.problem, case: showCase(c), answer: outcome.excerpt })
      const printed = serverErrors.splice(0)
      for (const line of printed) if (SERVER_FAILURE.test(line)) findings.push({ what: `server logged: ${line}`, case: showCase(c) })
    }

    /** A rejected request: an error answer, or (for raw bodies) a refused status. Partial success of several mutation fields is not. */
    function rejected(c: FuzzCase, outcome: Outcome): boolean {
      if (c.request.type === 'raw') return outcome.status !== null && outcome.status >= 400
      return !outcome.accepted && c.rootFieldCount <= 1
    }

    async function alive(): Promise<void> {
      const response = await fetch(`${api.url}/healthz`, { signal: AbortSignal.timeout(10_000) }).catch((error: unknown) => error)
      if (!(response instanceof Response) || response.status !== 200) findings.push({ what: `the server stopped answering /healthz: ${response instanceof Response ? response.status : describeError(response)}` })
    }

    /** Runs cases: writers one at a time with a store check after each, the rest concurrently in checked batches. */
    async function run(cases: Iterable<FuzzCase>, send: (c: FuzzCase) => Promise<Outcome>, concurrency: number): Promise<void> {
      const probe = new StateProbe(api.store)
      await probe.reset()
      let buffer: FuzzCase[] = []
      let batches = 0
      const flush = async (): Promise<void> => {
        const batch = buffer
        buffer = []
        if (batch.length === 0) return
        await pool(batch, concurrency, async (c) => record(c, await timed(c, send)))
        const check = await within(probe.changed(), 60_000, 'reading the store after a batch')
        if (check.changed) {
          findings.push({ what: `the store changed during a batch of read-only or unparsable requests (${diffCounts(check.before, check.after)})`, case: batch.map((c) => showCase(c, 600)).join('\n') })
        }
        if (++batches % 20 === 0) await alive()
      }
      for (const c of cases) {
        if (!c.mayWrite) {
          buffer.push(c)
          if (buffer.length >= BATCH) await flush()
          continue
        }
        const outcome = await timed(c, send)
        record(c, outcome)
        const check = await within(probe.changed(), 60_000, `reading the store after ${showCase(c, 300)}`)
        if (rejected(c, outcome)) {
          stats.checkedRejected++
          if (check.changed) findings.push({ what: `a rejected request changed the store (${diffCounts(check.before, check.after)})`, status: outcome.status, case: showCase(c), answer: `HTTP ${outcome.status ?? '-'}: ${outcome.excerpt}` })
        }
      }
      await flush()
      await alive()
    }

    function* httpCases(): Generator<FuzzCase> {
      for (let i = 0; i < COUNT; i++) yield generateCase(SEED, i, ctx)
    }

    function report(phase: string, started: number): void {
      console.log(
        `[fuzz ${dialect}] ${phase}: seed ${SEED}, ${stats.sent} cases in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
          `families ${JSON.stringify(stats.byFamily)}; statuses ${JSON.stringify(stats.byStatus)}; ` +
          `${stats.accepted} mutations accepted, ${stats.checkedRejected} rejected writers checked one by one; ${findings.length} findings so far (known issues included); ` +
          `ms by family ${JSON.stringify(stats.msByFamily)}`,
      )
      if (process.env.SENTRA_FUZZ_VERBOSE) console.log(`slowest:\n${stats.slowest.map((s) => `${s.ms} ms ${s.c}`).join('\n')}`)
    }

    function assertNoFindings(): void {
      if (!STRICT) {
        const known = new Map<string, number>()
        for (let i = findings.length - 1; i >= 0; i--) {
          const issue = KNOWN_ISSUES.find((k) => k.matches(findings[i]!))
          if (!issue) continue
          known.set(issue.why, (known.get(issue.why) ?? 0) + 1)
          findings.splice(i, 1)
        }
        for (const [why, count] of known) console.warn(`[fuzz ${dialect}] known issue seen ${count} time(s), not failed on: ${why}`)
      }
      if (findings.length === 0) return
      const shown = findings.slice(0, 10).map((f, i) => `${i + 1}. ${f.what}${f.case ? `\n   input: ${f.case}` : ''}${f.answer ? `\n   answer: ${f.answer}` : ''}`)
      expect.fail(`fuzz found ${findings.length} problem(s) with seed ${SEED} (rerun: SENTRA_FUZZ_SEED=${SEED} npx vitest run test/fuzz):\n${shown.join('\n')}`)
    }

    it(`survives ${COUNT} generated and mutated documents, specs and raw bodies over HTTP`, { timeout: 15 * 60_000 }, async () => {
      const started = performance.now()
      await run(httpCases(), (c) => (c.request.type === 'raw' ? sendRaw(api.url, c.request) : sendGraphql(api.graphqlUrl, token, c.request)), CONCURRENCY)
      report('HTTP', started)
      expect(stats.sent).toBe(COUNT)
      assertNoFindings()
    })

    it(`survives ${WS_COUNT} operations and ${RAW_WS_COUNT} raw frames over graphql-ws`, { timeout: 10 * 60_000 }, async () => {
      const started = performance.now()
      let sent = 0
      const clients: Client[] = []
      const closes: { code: number; reason: string }[] = []
      const newClient = (): Client =>
        createClient({
          url: api.wsUrl,
          webSocketImpl: WebSocket,
          lazy: true,
          retryAttempts: 0,
          connectionParams: { token },
          on: { closed: (event) => closes.push({ code: (event as { code?: number }).code ?? 0, reason: String((event as { reason?: unknown }).reason ?? '') }) },
        })
      for (let i = 0; i < CONCURRENCY; i++) clients.push(newClient())
      let turn = 0
      const send = async (c: FuzzCase): Promise<Outcome> => {
        if (c.request.type !== 'graphql') throw new Error('graphql-ws carries GraphQL requests only')
        sent++
        const slot = turn++ % clients.length
        const outcome = await sendWs(clients[slot]!, c.request, c.operationKind === 'subscription' || c.operationKind === null ? 300 : 20_000)
        if (outcome.excerpt.startsWith('closed')) {
          // This client's socket is gone (e.g. a payload over the limit): the next case gets a fresh one.
          void clients[slot]!.dispose()
          clients[slot] = newClient()
        }
        return outcome
      }
      function* wsCases(): Generator<FuzzCase> {
        for (let i = 0; i < WS_COUNT; i++) yield generateCase(SEED, i, ctx, { forWs: true })
      }
      await run(wsCases(), send, CONCURRENCY * 2)
      for (const client of clients) await client.dispose()

      // Raw frames the graphql-ws client would never send: the server must close or answer, never fail.
      const probe = new StateProbe(api.store)
      await probe.reset()
      const rng = new Rng(SEED ^ 0x5eed)
      const frames = Array.from({ length: RAW_WS_COUNT }, (_, i) => rawWsFrame(rng.fork(i), token, ctx.known))
      await pool(frames, CONCURRENCY, async (frame) => {
        const result = await frame.send(api.wsUrl)
        sent++
        stats.sent++
        stats.byFamily['raw-ws'] = (stats.byFamily['raw-ws'] ?? 0) + 1
        if (result.problem) findings.push({ what: result.problem, case: `raw ws frames: ${frame.describe}` })
        for (const line of serverErrors.splice(0)) if (SERVER_FAILURE.test(line)) findings.push({ what: `server logged: ${line}`, case: `raw ws frames: ${frame.describe}` })
      })
      const check = await probe.changed()
      if (check.changed) findings.push({ what: `raw graphql-ws frames changed the store (${diffCounts(check.before, check.after)})` })
      await alive()
      report('graphql-ws', started)
      expect(sent).toBe(WS_COUNT + RAW_WS_COUNT)
      for (const close of closes) if (close.code === 1011 || close.code === 4500) findings.push({ what: `a graphql-ws client's socket closed with ${close.code}: ${close.reason}` })
      assertNoFindings()
    })
  })
}
