import { randomBytes } from 'node:crypto'
import { ApplicationRepository } from '../../schema/store/applications.ts'
import type { Db } from '../../schema/store/connect.ts'
import type { Application, Rollout, StepKind } from '../../schema/store/models.ts'
import { RolloutRepository } from '../../schema/store/rollouts.ts'
import type { Database } from '../../schema/store/tables.ts'

/** Small builders for store tests; every name is unique so tests in one database do not collide. */

export function uniqueName(prefix = 'app'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

export const SAMPLE_STEPS: { kind: StepKind; spec: object }[] = [
  { kind: 'setWeight', spec: { setWeight: 5 } },
  { kind: 'analyze', spec: { analyze: { min: '20s', max: '5m' } } },
  { kind: 'pause', spec: { pause: {} } },
]

export async function makeApplication(db: Db, name = uniqueName(), stableVersion: string | null = 'v1'): Promise<Application> {
  const applications = new ApplicationRepository(db)
  const app = await applications.upsert(name, { name, target: { kind: 'process' } })
  if (stableVersion === null) return app
  await applications.setStableVersion(app.id, stableVersion)
  return { ...app, stableVersion }
}

/** A rollout of a fresh application (or of `application`), PENDING unless `status` says otherwise. */
export async function makeRollout(
  db: Db,
  { application, status, now }: { application?: Application; status?: Rollout['status']; now?: Date } = {},
): Promise<Rollout> {
  const rollouts = new RolloutRepository(db)
  const app = application ?? (await makeApplication(db))
  const rollout = await rollouts.create({ application: app, toVersion: 'v2', steps: SAMPLE_STEPS, now })
  return status && status !== 'PENDING' ? rollouts.update(rollout.id, { status }) : rollout
}

export async function countRows(db: Db, table: keyof Database): Promise<number> {
  const row = await db.kysely
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** How many SQL statements `fn` sent. */
export async function queriesOf<T>(db: Db, fn: () => Promise<T>): Promise<{ result: T; queries: number }> {
  const before = db.stats.queries
  const result = await fn()
  return { result, queries: db.stats.queries - before }
}
