import { flagSet } from '../args.ts'
import type { Command } from '../command.ts'
import { EXIT } from '../errors.ts'
import { rolloutSummary } from '../format/summary.ts'
import { json } from '../format/text.ts'
import { StartRolloutMutation } from '../operations/commands.ts'
import { interruption } from './watch.ts'

export const start: Command = {
  name: 'start',
  summary: 'start rolling out a version of an application',
  args: [
    { name: 'app', description: 'the application name' },
    { name: 'version', description: 'the version to roll out, e.g. v2 or 1.4.0' },
  ],
  flags: [{ name: 'watch', description: 'then follow it as `sentra watch` does (and exit as it does)' }],
  examples: ['sentra start checkout v2', 'sentra start checkout v2 --watch'],
  async run({ parsed, io, output, connect }) {
    const [application, version] = parsed.positionals as [string, string]
    const api = await connect()
    const { startRollout: rollout } = await api.request(StartRolloutMutation, { application, version })
    if (flagSet(parsed, 'watch')) {
      if (output !== 'json') io.err(`started rollout ${rollout.id}\n`)
      const { watchRollout } = await import('../watch.ts')
      return watchRollout({ api, id: rollout.id, io, output, signal: interruption() })
    }
    io.out(output === 'json' ? json(rollout) : `started rollout ${rollout.id} (${rolloutSummary(rollout)})\n`)
    return EXIT.ok
  },
}
