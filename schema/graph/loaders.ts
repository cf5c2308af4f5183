import DataLoader from 'dataloader'
import type { Store } from '../store/index.ts'
import type {
  Application,
  Decision,
  GateResult,
  OperatorCommand,
  Rollout,
  RolloutStep,
  TelemetryWindow,
} from '../store/models.ts'
import { createTraceLoaders, type TraceLoaders } from './trace-loaders.ts'

/**
 * Dataloaders for everything a rollout list fans out to. Each loader turns the N parent
 * ids of one GraphQL execution tick into one SQL query. Loaders that take a `last`
 * argument are kept per value of it, so `decisions(last: 1)` and `decisions` batch
 * separately but each still costs one query.
 */
export interface Loaders extends TraceLoaders {
  application: DataLoader<string, Application | null>
  rollout: DataLoader<string, Rollout | null>
  steps: DataLoader<string, RolloutStep[]>
  lastDecision: DataLoader<string, Decision | null>
  commands: DataLoader<string, OperatorCommand[]>
  decisions(last: number | null): DataLoader<string, Decision[]>
  gateResults(last: number | null): DataLoader<string, GateResult[]>
  windows(last: number | null): DataLoader<string, TelemetryWindow[]>
}

function keyed<T>(make: (last: number | null) => DataLoader<string, T>): (last: number | null) => DataLoader<string, T> {
  const byLast = new Map<number | null, DataLoader<string, T>>()
  return (last) => {
    let loader = byLast.get(last)
    if (!loader) {
      loader = make(last)
      byLast.set(last, loader)
    }
    return loader
  }
}

function limit(last: number | null): { last?: number } {
  return last === null ? {} : { last }
}

/**
 * `visible` says which applications the caller may see (context.ts visibleTo): an
 * application or rollout of any other loads as null, as if it did not exist, so every
 * path through these loaders (node(id), rollout(id), Rollout.application, webhook
 * deliveries) hides it alike.
 */
export function createLoaders(store: Store, visible: (applicationName: string) => boolean = () => true): Loaders {
  return {
    application: new DataLoader(async (ids) => (await store.applications.byIds(ids)).map((app) => (app && visible(app.name) ? app : null))),
    rollout: new DataLoader(async (ids) => (await store.rollouts.byIds(ids)).map((r) => (r && visible(r.applicationName) ? r : null))),
    steps: new DataLoader((ids) => store.rollouts.stepsFor(ids)),
    lastDecision: new DataLoader((ids) => store.decisions.lastFor(ids)),
    commands: new DataLoader((ids) => store.commands.for(ids)),
    decisions: keyed((last) => new DataLoader((ids) => store.decisions.for(ids, limit(last)))),
    gateResults: keyed((last) => new DataLoader((ids) => store.evidence.gateResultsFor(ids, limit(last)))),
    windows: keyed((last) => new DataLoader((ids) => store.evidence.windowsFor(ids, limit(last)))),
    ...createTraceLoaders(store),
  }
}
