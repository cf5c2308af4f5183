/**
 * The `sentra` CLI: `tsx cli/sentra.ts <command> …`, or `npx sentra …` through cli/bin.mjs.
 * See docs/cli.md.
 */
import { processIo } from './io.ts'
import { main } from './main.ts'

process.exitCode = await main(process.argv.slice(2), processIo(), process.env)
