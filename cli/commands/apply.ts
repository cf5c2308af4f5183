import { flagSet, flagValue } from '../args.ts'
import type { Command } from '../command.ts'
import { CliError, EXIT, UsageError } from '../errors.ts'
import { clean, json } from '../format/text.ts'
import { ApplyApplicationMutation } from '../operations/applications.ts'
import { readSpecFile } from '../spec-file.ts'

export const apply: Command = {
  name: 'apply',
  summary: 'create or update an application from its spec (YAML or JSON)',
  args: [],
  flags: [
    { name: 'file', short: 'f', value: 'FILE', description: 'the spec file; "-" reads stdin (at most 1 MiB)' },
    { name: 'dry-run', description: 'validate locally only; send nothing' },
    { name: 'skip-local-validation', description: 'let the server alone validate (when the CLI is older than the server)' },
  ],
  examples: ['sentra apply -f checkout.yaml', 'sentra apply -f checkout.yaml --dry-run'],
  async run({ parsed, io, output, connect }) {
    const file = flagValue(parsed, 'file')
    if (file === undefined) throw new UsageError('missing -f FILE', 'apply')
    const dryRun = flagSet(parsed, 'dry-run')
    const skipLocal = flagSet(parsed, 'skip-local-validation')
    if (dryRun && skipLocal) throw new UsageError('--dry-run and --skip-local-validation cannot be combined', 'apply')
    const shown = file === '-' ? 'stdin' : file
    const text = await readSpecFile(file, io.stdin)

    let name: string | null = null
    if (!skipLocal) {
      // Loaded here only: the spec validator (zod and the YAML parser) is the slowest import.
      const { parseSpec } = await import('../../schema/spec.ts')
      const result = parseSpec(text)
      if (!result.ok) {
        const count = result.issues.length
        throw new CliError(`${shown}: invalid application spec (${count} ${count === 1 ? 'problem' : 'problems'}); nothing was sent`, {
          details: result.issues.map((issue) => `  ${issue.path === '' ? '(spec)' : issue.path}: ${issue.message}`),
        })
      }
      name = result.spec.name
    }
    if (dryRun) {
      io.out(output === 'json' ? json({ file: shown, valid: true, name }) : `${shown}: valid application spec (${name}); nothing sent (--dry-run)\n`)
      return EXIT.ok
    }

    const api = await connect()
    const { applyApplication: app } = await api.request(ApplyApplicationMutation, { spec: text })
    if (output === 'json') io.out(json(app))
    else io.out(`application ${clean(app.name)} ${app.createdAt === app.updatedAt ? 'created' : 'updated'} (stable version ${clean(app.stableVersion ?? 'none yet')})\n`)
    return EXIT.ok
  },
}
