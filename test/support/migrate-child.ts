/**
 * Migrates the database named by argv[2] on a signal, so a test can start several processes
 * migrating at the same moment: connects, prints `ready`, waits for a line on stdin, then
 * migrates and prints the applied migration names as JSON.
 */
import { once } from 'node:events'
import { connect } from '../../schema/store/connect.ts'
import { migrate } from '../../schema/store/migrate.ts'

const url = process.argv[2]
if (!url) throw new Error('usage: migrate-child.ts <database url>')
const db = connect(url)
try {
  await db.ping()
  process.stdout.write('ready\n')
  await once(process.stdin, 'data')
  const applied = await migrate(db)
  process.stdout.write(`${JSON.stringify(applied)}\n`)
} finally {
  await db.close()
  process.stdin.destroy()
}
