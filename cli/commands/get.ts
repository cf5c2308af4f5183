import type { Command } from '../command.ts'
import { EXIT } from '../errors.ts'
import { fetchRollout } from '../fetch-rollout.ts'
import { rolloutDetail } from '../format/detail.ts'
import { json } from '../format/text.ts'

export const get: Command = {
  name: 'get',
  summary: 'show one rollout: steps, gates with their last verdicts, recent decisions',
  args: [{ name: 'rollout-id', description: 'a rollout id as `sentra rollouts` lists them' }],
  flags: [],
  examples: ['sentra get Um9sbG91dDo…', 'sentra get Um9sbG91dDo… --output json | jq .status'],
  async run({ parsed, io, output, connect }) {
    const { request } = await connect()
    const rollout = await fetchRollout(request, parsed.positionals[0]!)
    io.out(output === 'json' ? json(rollout) : rolloutDetail(rollout))
    return EXIT.ok
  },
}
