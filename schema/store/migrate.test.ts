import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS, createTestDatabase, openTestStore, type TestDatabase } from '../../test/support/databases.ts'
import { connect, type Db } from './connect.ts'
import { migrate } from './migrate.ts'
import { migrations } from './migrations/index.ts'

const CHILD = fileURLToPath(new URL('../../test/support/migrate-child.ts', import.meta.url))
const TABLES = ['api_tokens', 'applications', 'decisions', 'gate_results', 'leases', 'operator_commands', 'otlp_aggregates', 'otlp_durations', 'policies', 'providers', 'rollout_steps', 'rollouts', 'telemetry_windows', 'traces', 'webhook_deliveries', 'webhook_subscriptions']

interface Child {
  /** Resolves once the child has connected and waits for the signal. */
  ready: Promise<void>
  go(): void
  done: Promise<{ code: number | null; stdout: string; stderr: string }>
}

function startChild(url: string): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  let onReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => (onReady = resolve))
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    if (stdout.startsWith('ready\n')) onReady()
  })
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      onReady()
      resolve({ code, stdout: stdout.replace(/^ready\n/, ''), stderr })
    })
  })
  return { ready, go: () => child.stdin.write('go\n'), done }
}

async function tableNames(db: Db): Promise<string[]> {
  const tables = await db.kysely.introspection.getTables()
  return tables.map((t) => t.name).sort()
}

describe.each(DIALECTS)('migrate on %s', (dialect) => {
  describe('on a migrated database', () => {
    let store: Awaited<ReturnType<typeof openTestStore>>
    beforeAll(async () => {
      store = await openTestStore(dialect)
    })
    afterAll(async () => store?.dispose())

    it('is idempotent: a second run applies nothing and changes no table', async () => {
      const before = await tableNames(store.db)
      expect(await migrate(store.db)).toEqual([])
      expect(await migrate(store.db)).toEqual([])
      expect(await tableNames(store.db)).toEqual(before)
      const rows = await store.db.kysely.selectFrom('sentra_migrations').select('name').execute()
      expect(rows.map((r) => r.name)).toEqual(migrations.map((m) => m.name))
    })
  })

  describe('on a fresh database', () => {
    let database: TestDatabase
    beforeAll(async () => {
      database = await createTestDatabase(dialect)
    })
    afterAll(async () => database?.drop())

    it('two processes migrating at the same moment both succeed and the schema is created once', async () => {
      // Both children load tsx and connect first, then start migrating on one signal.
      const children = [startChild(database.url), startChild(database.url)]
      await Promise.all(children.map((c) => c.ready))
      for (const child of children) child.go()
      const results = await Promise.all(children.map((c) => c.done))
      for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 })
      const applied = results.map((r) => JSON.parse(r.stdout.trim()) as string[])
      const names = migrations.map((m) => m.name)
      // Exactly one of them applied every migration; the other found nothing to do.
      expect(applied.sort((x, y) => y.length - x.length)).toEqual([names, []])

      const db = connect(database.url)
      try {
        expect(await tableNames(db)).toEqual([...TABLES, 'sentra_migrations'].sort())
        const rows = await db.kysely.selectFrom('sentra_migrations').select('name').execute()
        expect(rows.map((r) => r.name)).toEqual(names)
        expect(await migrate(db)).toEqual([])
      } finally {
        await db.close()
      }
    }, 60_000)
  })
})
