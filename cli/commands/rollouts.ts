import { flagValue } from '../args.ts'
import type { Command } from '../command.ts'
import { EXIT } from '../errors.ts'
import { parseAppName, parseStatuses } from '../filters.ts'
import { percent, stepPosition, versions } from '../format/rollout.ts'
import { table } from '../format/table.ts'
import { clean, json, truncate } from '../format/text.ts'
import { age } from '../format/time.ts'
import { parseLimit } from '../limit.ts'
import { RolloutsQuery } from '../operations/rollouts.ts'
import { collect } from '../paging.ts'

export const rollouts: Command = {
  name: 'rollouts',
  summary: 'list rollouts, newest first',
  args: [],
  flags: [
    { name: 'app', value: 'NAME', description: 'only this application' },
    { name: 'status', value: 'S,...', description: 'only these statuses: PENDING, PROGRESSING, PAUSED, SUCCEEDED, ROLLING_BACK, ROLLED_BACK, ABORTED, FAILED' },
    { name: 'limit', value: 'N', description: 'at most N rollouts (1-1000; default 20)' },
  ],
  examples: ['sentra rollouts --app checkout', 'sentra rollouts --status progressing,paused --output json'],
  async run({ parsed, io, output, connect }) {
    const application = parseAppName(flagValue(parsed, 'app'), 'rollouts')
    const status = parseStatuses(flagValue(parsed, 'status'), 'rollouts')
    const limit = parseLimit(flagValue(parsed, 'limit'), { fallback: 20, max: 1000, command: 'rollouts' })
    const { request } = await connect()
    const items = await collect(limit, async (first, after) => {
      const { rollouts: page } = await request(RolloutsQuery, { first, after, application, status })
      return { items: page.edges.map((e) => e.node), ...page.pageInfo }
    })
    if (output === 'json') {
      io.out(json(items.map(({ steps, ...rollout }) => ({ ...rollout, stepCount: steps.length }))))
      return EXIT.ok
    }
    if (items.length === 0) {
      io.err('no rollouts match\n')
      return EXIT.ok
    }
    const now = Date.now()
    io.out(
      table(
        ['ID', 'APP', 'VERSION', 'STATUS', 'WEIGHT', 'STEP', 'AGE', 'LAST DECISION'],
        items.map((r) => [
          r.id,
          r.applicationName,
          versions(r),
          r.status,
          percent(r.canaryWeight),
          stepPosition(r, r.steps.length),
          age(r.createdAt, now),
          r.lastDecision ? truncate(`${r.lastDecision.action}: ${clean(r.lastDecision.reason)}`, 80) : '-',
        ]),
      ),
    )
    return EXIT.ok
  },
}
