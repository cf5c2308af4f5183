import type { FlagSpec } from './args.ts'
import type { Command } from './command.ts'
import { COMMANDS } from './commands/index.ts'

/** Flags every command takes. */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'output', short: 'o', value: 'table|json', description: 'output format (default table)' },
  { name: 'help', short: 'h', description: 'show this help' },
]

function synopsis(command: Command): string {
  const args = command.args.map((a) => `<${a.name}>`)
  const flags = command.flags.map((f) => (f.value ? `[--${f.name} ${f.value}]` : `[--${f.name}]`))
  return ['sentra', command.name, ...args, ...flags].join(' ')
}

function flagLines(flags: readonly FlagSpec[]): string[] {
  const shown = flags.map((f) => [`${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.value ? ` ${f.value}` : ''}`, f.description] as const)
  const width = Math.max(...shown.map(([left]) => left.length))
  return shown.map(([left, description]) => `  ${left.padEnd(width)}  ${description}`)
}

/** The overview: every command with its synopsis line. */
export function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  return [
    'sentra: roll out, watch and steer Sentra canary rollouts',
    '',
    'usage: sentra <command> [arguments] [flags]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'flags for every command:',
    ...flagLines(GLOBAL_FLAGS),
    '',
    'The server and token come from SENTRA_URL and SENTRA_TOKEN, else from `sentra login`.',
    'Exit codes: 0 done, 1 failed (API error, invalid spec, rollout not successful), 2 usage, 3 unreachable, 4 `audit verify` found a broken link.',
    'Run `sentra <command> --help` for a command\'s arguments and flags.',
    '',
  ].join('\n')
}

/** One command's help: synopsis, arguments, flags, examples. */
export function commandUsage(command: Command): string {
  const args = command.args.map((a) => [`<${a.name}>`, a.description] as const)
  const width = Math.max(0, ...args.map(([name]) => name.length))
  return [
    `usage: ${synopsis(command)}`,
    '',
    command.summary,
    ...(args.length > 0 ? ['', 'arguments:', ...args.map(([name, d]) => `  ${name.padEnd(width)}  ${d}`)] : []),
    '',
    'flags:',
    ...flagLines([...command.flags, ...GLOBAL_FLAGS]),
    ...(command.examples.length > 0 ? ['', 'examples:', ...command.examples.map((e) => `  ${e}`)] : []),
    '',
  ].join('\n')
}
