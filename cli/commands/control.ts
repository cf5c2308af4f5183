import type { Request } from '../api.ts'
import { flagSet, flagValue, type FlagSpec } from '../args.ts'
import type { Command } from '../command.ts'
import { EXIT } from '../errors.ts'
import { rolloutSummary } from '../format/summary.ts'
import { json } from '../format/text.ts'
import type { CliRolloutSummaryFragment } from '../gql/graphql.ts'
import {
  AbortRolloutMutation,
  PauseRolloutMutation,
  PromoteRolloutMutation,
  ResumeRolloutMutation,
  RollbackRolloutMutation,
} from '../operations/commands.ts'
import { parseReason } from '../reason.ts'

interface Options {
  id: string
  reason: string | null
  full: boolean
}

const REASON: FlagSpec = { name: 'reason', value: 'R', description: 'why, recorded with the command and the decision (at most 1000 characters)' }
const ID = [{ name: 'rollout-id', description: 'a rollout id as `sentra rollouts` lists them' }] as const

/** A rollout command: the mutation records it; the controller applies it on its next tick. */
function rolloutCommand(
  name: string,
  summary: string,
  flags: readonly FlagSpec[],
  send: (request: Request, options: Options) => Promise<CliRolloutSummaryFragment>,
): Command {
  return {
    name,
    summary,
    args: ID,
    flags,
    examples: [`sentra ${name} Um9sbG91dDo…${flags.some((f) => f.name === 'reason') ? ' --reason "p99 looks off"' : ''}`],
    async run({ parsed, io, output, connect }) {
      const options: Options = {
        id: parsed.positionals[0]!,
        reason: flags.includes(REASON) ? parseReason(flagValue(parsed, 'reason'), name) : null,
        full: flagSet(parsed, 'full'),
      }
      const { request } = await connect()
      const rollout = await send(request, options)
      if (output === 'json') io.out(json(rollout))
      else io.out(`${name}${options.full ? ' (full)' : ''} requested for rollout ${rollout.id} (${rolloutSummary(rollout)}); the controller applies it on its next tick\n`)
      return EXIT.ok
    },
  }
}

export const promote = rolloutCommand(
  'promote',
  'skip to the next step, or with --full straight to 100% and promotion',
  [{ name: 'full', description: 'promote all the way now' }],
  async (request, { id, full }) => (await request(PromoteRolloutMutation, { id, full })).promoteRollout,
)

export const pause = rolloutCommand('pause', 'hold the rollout where it is until resumed', [REASON], async (request, { id, reason }) =>
  (await request(PauseRolloutMutation, { id, reason })).pauseRollout,
)

export const resume = rolloutCommand('resume', 'continue a paused rollout', [], async (request, { id }) => (await request(ResumeRolloutMutation, { id })).resumeRollout)

export const rollback = rolloutCommand('rollback', 'send all traffic back to the stable version and remove the canary', [REASON], async (request, { id, reason }) =>
  (await request(RollbackRolloutMutation, { id, reason })).rollbackRollout,
)

export const abort = rolloutCommand('abort', 'stop the rollout where it is; all traffic to the stable version', [REASON], async (request, { id, reason }) =>
  (await request(AbortRolloutMutation, { id, reason })).abortRollout,
)
