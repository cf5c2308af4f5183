import type { Api } from './api.ts'
import { errorEntries } from './api.ts'
import type { OutputFormat } from './command.ts'
import { ApiError, CliError, EXIT, NetworkError, type ExitCode } from './errors.ts'
import { fetchRollout } from './fetch-rollout.ts'
import { isPersistedMiss, operationPayload } from './persisted.ts'
import { FINISHED_STATUSES } from './format/rollout.ts'
import type { CliRolloutDetailFragment } from './gql/graphql.ts'
import type { Io } from './io.ts'
import { FORBIDDEN, RECONNECT_FOR_MS, closeDescription, createLiveClient } from './live.ts'
import { RolloutChangedSubscription } from './operations/rollouts.ts'
import { createWatchView } from './watch-view.ts'

type Rollout = CliRolloutDetailFragment

/** 0 when the rollout SUCCEEDED, 1 when it ended any other way. */
export function exitCodeFor(rollout: Rollout): ExitCode {
  return rollout.status === 'SUCCEEDED' ? EXIT.ok : EXIT.failed
}

/**
 * Follows a rollout live until it finishes, over the `rolloutChanged` subscription. On a
 * lost connection it reconnects, resubscribes and refetches the rollout over HTTP, so no
 * decision is missed; states older than one already shown are ignored.
 */
export async function watchRollout({ api, id, io, output, signal }: { api: Api; id: string; io: Io; output: OutputFormat; signal: AbortSignal }): Promise<ExitCode> {
  const view = createWatchView(io, output)
  const first = await fetchRollout(api.request, id)
  view.show(first)
  if (FINISHED_STATUSES.has(first.status)) {
    view.end(first)
    return exitCodeFor(first)
  }

  return new Promise<ExitCode>((resolve, reject) => {
    let seq = first.seq
    let finished = false
    const finish = (outcome: { code: ExitCode } | { error: unknown }) => {
      if (finished) return
      finished = true
      signal.removeEventListener('abort', interrupted)
      unsubscribe()
      void client.dispose()
      if ('code' in outcome) resolve(outcome.code)
      else reject(outcome.error)
    }
    const accept = (rollout: Rollout) => {
      if (finished || rollout.seq < seq) return
      seq = rollout.seq
      view.show(rollout)
      if (FINISHED_STATUSES.has(rollout.status)) {
        view.end(rollout)
        finish({ code: exitCodeFor(rollout) })
      }
    }
    const interrupted = () => {
      view.note('interrupted; the rollout goes on without you watching')
      finish({ code: EXIT.interrupted })
    }
    signal.addEventListener('abort', interrupted)

    const client = createLiveClient(api.connection, {
      connected: (again) => {
        if (!again || finished) return
        view.note(`reconnected to ${api.connection.wsUrl}`)
        fetchRollout(api.request, id).then(accept, (error: unknown) => view.note(`could not refetch the rollout: ${(error as Error).message}`))
      },
      lost: (code, reason) => {
        if (!finished) view.note(`connection to ${api.connection.wsUrl} lost (code ${code}${reason ? `: ${reason}` : ''}); reconnecting…`)
      },
    })
    let unsubscribe = () => {}
    // By hash first (cli/persisted.ts); as text once if the server does not know the hash.
    const subscribe = (asText: boolean) => {
      unsubscribe = client.subscribe<{ rolloutChanged: Rollout }>(operationPayload(RolloutChangedSubscription, { id }, { asText }), {
        next: (result) => {
          if (result.errors && result.errors.length > 0) finish({ error: new ApiError(errorEntries(result.errors)) })
          else if (result.data) accept(result.data.rolloutChanged)
        },
        error: (error: unknown) => {
          if (Array.isArray(error)) {
            const errors = errorEntries(error)
            if (!asText && !finished && isPersistedMiss(errors)) return subscribe(true)
            return finish({ error: new ApiError(errors) })
          }
          const { code, text } = closeDescription(error)
          if (code === FORBIDDEN) {
            return finish({ error: new ApiError([{ message: 'the server refused the token for live updates (WebSocket 4403)', code: 'UNAUTHENTICATED', issues: [] }]) })
          }
          finish({ error: new NetworkError(api.connection.wsUrl, `${text}; gave up after ${RECONNECT_FOR_MS / 60_000} minutes of reconnecting`) })
        },
        complete: () => finish({ error: new CliError('the server ended the live updates before the rollout finished') }),
      })
    }
    subscribe(false)
  })
}
