import { createApi } from './api.ts'
import { flagSet, flagValue, parseArgs } from './args.ts'
import { OUTPUT_FORMATS, type OutputFormat } from './command.ts'
import { findCommand } from './commands/index.ts'
import { resolveConnection, type Env } from './config.ts'
import { CliError, EXIT, UsageError, type ExitCode } from './errors.ts'
import type { Io } from './io.ts'
import { commandUsage, GLOBAL_FLAGS, overview } from './usage.ts'

function parseOutput(raw: string | undefined, command: string): OutputFormat {
  if (raw === undefined) return 'table'
  const format = OUTPUT_FORMATS.find((f) => f === raw)
  if (!format) throw new UsageError(`--output must be ${OUTPUT_FORMATS.join(' or ')}, not ${JSON.stringify(raw)}`, command)
  return format
}

function report(io: Io, error: unknown): ExitCode {
  if (error instanceof UsageError) {
    io.err(`sentra: ${error.message}\n\n`)
    const command = error.command === null ? undefined : findCommand(error.command)
    io.err(command ? commandUsage(command) : overview())
    return error.exitCode
  }
  if (error instanceof CliError) {
    io.err(`sentra: ${error.message}\n`)
    for (const line of error.details) io.err(`${line}\n`)
    return error.exitCode
  }
  io.err(`sentra: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`)
  return EXIT.failed
}

/**
 * Runs one `sentra` command line and resolves to its exit code; never throws. Flags are
 * all checked before anything is sent.
 */
export async function main(argv: readonly string[], io: Io, env: Env): Promise<ExitCode> {
  try {
    const [name, ...rest] = argv
    if (name === undefined) throw new UsageError('no command given')
    if (name === 'help' || name === '--help' || name === '-h') {
      const command = rest[0] === undefined ? undefined : findCommand(rest[0])
      if (rest[0] !== undefined && !command) throw new UsageError(`unknown command ${JSON.stringify(rest[0])}`)
      io.out(command ? commandUsage(command) : overview())
      return EXIT.ok
    }
    const command = findCommand(name)
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}`)
    // --help wins over anything else on the line, even a missing argument.
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(commandUsage(command))
      return EXIT.ok
    }
    const parsed = parseArgs(rest, { name: command.name, args: command.args, flags: [...command.flags, ...GLOBAL_FLAGS] })
    if (flagSet(parsed, 'help')) {
      io.out(commandUsage(command))
      return EXIT.ok
    }
    const output = parseOutput(flagValue(parsed, 'output'), command.name)
    return await command.run({ parsed, output, io, env, connect: async () => createApi(await resolveConnection(env)) })
  } catch (error) {
    return report(io, error)
  }
}
