import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { lexicographicSortSchema, printSchema } from 'graphql'
import { graphSchema } from './graph/index.ts'

/** Prints the schema from the code; with --check, fails when the committed file differs. */
const target = fileURLToPath(new URL('./schema.graphql', import.meta.url))
const printed = `${printSchema(lexicographicSortSchema(graphSchema()))}\n`

if (process.argv.includes('--check')) {
  let committed = ''
  try {
    committed = readFileSync(target, 'utf8')
  } catch {
    // a missing file is drift too
  }
  if (committed !== printed) {
    console.error('schema/schema.graphql is out of date: run `npm run schema:print` and commit it.')
    process.exit(1)
  }
  console.log('schema/schema.graphql is current.')
} else {
  writeFileSync(target, printed)
  console.log(`wrote ${target}`)
}
