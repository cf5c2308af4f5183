import { flagValue } from '../args.ts'
import type { Command } from '../command.ts'
import { EXIT } from '../errors.ts'
import { percent } from '../format/rollout.ts'
import { table } from '../format/table.ts'
import { json } from '../format/text.ts'
import { age } from '../format/time.ts'
import { parseLimit } from '../limit.ts'
import { ApplicationsQuery } from '../operations/applications.ts'
import { collect } from '../paging.ts'

function targetKind(spec: unknown): string {
  const target = spec !== null && typeof spec === 'object' ? (spec as { target?: { kind?: unknown } }).target : undefined
  return typeof target?.kind === 'string' ? target.kind : '-'
}

export const apps: Command = {
  name: 'apps',
  summary: 'list applications with their stable version and latest rollout',
  args: [],
  flags: [{ name: 'limit', value: 'N', description: 'at most N applications (1-1000; default 200)' }],
  examples: ['sentra apps', 'sentra apps --output json | jq -r ".[].name"'],
  async run({ parsed, io, output, connect }) {
    const limit = parseLimit(flagValue(parsed, 'limit'), { fallback: 200, max: 1000, command: 'apps' })
    const { request } = await connect()
    const items = await collect(limit, async (first, after) => {
      const { applications } = await request(ApplicationsQuery, { first, after })
      return { items: applications.edges.map((e) => e.node), ...applications.pageInfo }
    })
    if (output === 'json') {
      io.out(json(items.map(({ rollouts, ...app }) => ({ ...app, latestRollout: rollouts.edges[0]?.node ?? null }))))
      return EXIT.ok
    }
    if (items.length === 0) {
      io.err('no applications yet; create one with `sentra apply -f app.yaml`\n')
      return EXIT.ok
    }
    const now = Date.now()
    io.out(
      table(
        ['NAME', 'TARGET', 'STABLE', 'LATEST ROLLOUT', 'STATUS', 'WEIGHT', 'UPDATED'],
        items.map((app) => {
          const latest = app.rollouts.edges[0]?.node
          return [app.name, targetKind(app.spec), app.stableVersion ?? '-', latest?.toVersion ?? '-', latest?.status ?? '-', latest ? percent(latest.canaryWeight) : '-', age(app.updatedAt, now)]
        }),
      ),
    )
    return EXIT.ok
  },
}
