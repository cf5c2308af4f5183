import { Kind, type DocumentNode, type OperationDefinitionNode } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { isSharedExecution } from './fanout/shared-context.ts'

const MAX_OPERATION_NAMES = 200

/** The API process's own metrics, served at /metrics in Prometheus text format. */
export class ServerMetrics {
  readonly registry = new Registry()
  readonly httpRequests = new Counter({
    name: 'sentra_http_requests_total',
    help: 'HTTP requests by route, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  })
  readonly httpDuration = new Histogram({
    name: 'sentra_http_request_duration_seconds',
    help: 'HTTP request duration by route.',
    labelNames: ['route', 'method'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  })
  readonly operations = new Counter({
    name: 'sentra_graphql_operations_total',
    help: 'GraphQL operations executed, by type, name and outcome (ok or error).',
    labelNames: ['type', 'name', 'outcome'] as const,
    registers: [this.registry],
  })
  readonly operationDuration = new Histogram({
    name: 'sentra_graphql_operation_duration_seconds',
    help: 'GraphQL execution time by operation type.',
    labelNames: ['type'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  })
  /** Subscription executions open in yoga: one per SSE subscriber, one per shared graphql-ws group. */
  #executions = 0
  /** graphql-ws fan-out (server/fanout/): its shared executions and the subscribers they serve. */
  #fanout: () => { groups: number; subscribers: number } = () => ({ groups: 0, subscribers: 0 })
  readonly subscriptions = new Gauge({
    name: 'sentra_graphql_subscriptions_active',
    help: 'GraphQL subscriptions currently open (graphql-ws subscribers and SSE), counted per subscriber.',
    registers: [this.registry],
    // A shared graphql-ws execution serves many subscribers: count those, not the execution.
    collect: () => {
      const { groups, subscribers } = this.#fanout()
      this.subscriptions.set(Math.max(0, this.#executions - groups) + subscribers)
    },
  })
  readonly #names = new Set<string>()

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sentra_' })
  }

  /** A subscription execution started (+1) or ended (-1). */
  executionOpened(delta: 1 | -1): void {
    this.#executions += delta
  }

  /** Where the graphql-ws fan-out's counts come from (set once the WebSocket server is attached). */
  countFanout(stats: () => { groups: number; subscribers: number }): void {
    this.#fanout = stats
  }

  /** Client-chosen names become labels only up to a bound; the rest share "other". */
  operationLabel(name: string | undefined): string {
    if (!name) return 'anonymous'
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) return 'other'
    if (this.#names.has(name)) return name
    if (this.#names.size >= MAX_OPERATION_NAMES) return 'other'
    this.#names.add(name)
    return name
  }
}

function operationOf(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  return document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
  )
}

/** One subscriber of a subscription operation (sentra_graphql_operations_total{type="subscription"}). */
export function countSubscriber(metrics: ServerMetrics, document: DocumentNode, operationName: string | null | undefined): void {
  const op = operationOf(document, operationName)
  metrics.operations.inc({ type: 'subscription', name: metrics.operationLabel(op?.name?.value), outcome: 'ok' })
}

export function useOperationMetrics(metrics: ServerMetrics): Plugin {
  return {
    onExecute({ args }) {
      const started = performance.now()
      const op = operationOf(args.document, args.operationName)
      const type = op?.operation ?? 'unknown'
      const name = metrics.operationLabel(op?.name?.value)
      return {
        onExecuteDone({ result }) {
          const failed = 'errors' in result && Array.isArray(result.errors) && result.errors.length > 0
          metrics.operations.inc({ type, name, outcome: failed ? 'error' : 'ok' })
          metrics.operationDuration.observe({ type }, (performance.now() - started) / 1000)
        },
      }
    },
    onSubscribe({ args }) {
      // A shared graphql-ws execution serves many subscribers: each was counted as it joined.
      if (!isSharedExecution(args.contextValue)) countSubscriber(metrics, args.document, args.operationName)
      metrics.executionOpened(1)
      let open = true
      const closed = () => {
        if (open) metrics.executionOpened(-1)
        open = false
      }
      return {
        onSubscribeResult() {
          return { onEnd: closed }
        },
        onSubscribeError: closed,
      }
    },
  }
}
