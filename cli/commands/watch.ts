import type { Command } from '../command.ts'

/** Ctrl-C and SIGTERM stop watching (exit 130); the rollout itself goes on. */
export function interruption(): AbortSignal {
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return controller.signal
}

export const watch: Command = {
  name: 'watch',
  summary: 'follow a rollout live until it ends; exit 0 when it SUCCEEDED, 1 when ROLLED_BACK, ABORTED or FAILED',
  args: [{ name: 'rollout-id', description: 'a rollout id as `sentra rollouts` lists them' }],
  flags: [],
  examples: ['sentra watch Um9sbG91dDo… && echo released', 'sentra watch Um9sbG91dDo… --output json | jq -c "{status, canaryWeight}"'],
  async run({ parsed, io, output, connect }) {
    const api = await connect()
    // Loaded here only: the WebSocket client is not needed by any other command.
    const { watchRollout } = await import('../watch.ts')
    return watchRollout({ api, id: parsed.positionals[0]!, io, output, signal: interruption() })
  },
}
