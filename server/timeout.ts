import { GraphQLError, Kind, type DocumentNode, type ExecutionResult } from 'graphql'
import type { Plugin } from 'graphql-yoga'

export function timeoutError(timeoutMs: number): GraphQLError {
  return new GraphQLError(`query took longer than ${timeoutMs} ms and was cancelled; ask for less (smaller pages, fewer nested lists) or try again later`, {
    extensions: { code: 'QUERY_TIMEOUT', timeoutMs },
  })
}

function isQuery(document: DocumentNode, operationName: string | null | undefined): boolean {
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName))
  return operation?.kind === Kind.OPERATION_DEFINITION && operation.operation === 'query'
}

/**
 * Cancels a query that runs longer than `timeoutMs` (SENTRA_QUERY_TIMEOUT_MS), over HTTP
 * and graphql-ws alike: the client gets `QUERY_TIMEOUT` and no data at the deadline.
 *
 * Cancellation is cooperative. Yoga's executor (@graphql-tools/executor) takes an
 * AbortSignal: once it is aborted no further resolver starts, but a resolver already
 * running (a SQL query in flight) runs to its end and its result is dropped; our store
 * calls take no signal. Mutations are not timed out: a write that has begun commits or
 * rolls back as a whole, and answering "timed out" while it commits would mislead the
 * client. Subscriptions live as long as the client wants and are not timed out either.
 */
export function useQueryTimeout(timeoutMs: number): Plugin {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      if (!isQuery(args.document, args.operationName)) return
      setExecuteFn((execution) => {
        const controller = new AbortController()
        const error = timeoutError(timeoutMs)
        const given = (execution as { signal?: AbortSignal }).signal
        const signal = given ? AbortSignal.any([given, controller.signal]) : controller.signal
        let timer: ReturnType<typeof setTimeout> | undefined
        // The executor also stops on the signal, but a resolver awaiting something that never
        // settles would keep it waiting: the deadline answers either way.
        const deadline = new Promise<ExecutionResult>((resolve) => {
          timer = setTimeout(() => {
            controller.abort(error)
            resolve({ errors: [error] })
          }, timeoutMs)
        })
        const running = Promise.resolve()
          .then(() => executeFn({ ...execution, signal } as typeof execution))
          .catch((thrown: unknown) => {
            if (controller.signal.aborted) return { errors: [error] } satisfies ExecutionResult
            throw thrown
          })
        return Promise.race([running, deadline]).finally(() => clearTimeout(timer)) as ReturnType<typeof executeFn>
      })
    },
  }
}
