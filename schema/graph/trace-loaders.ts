import DataLoader from 'dataloader'
import type { Store, StepKey, TracePageOptions, TraceRef } from '../store/index.ts'
import type { LinkedSpan, LinkedTrace, Page } from '../store/models.ts'

/**
 * Dataloaders for linked traces. Page loaders are kept per page option set (errorOnly,
 * first, after), so the traces of every rollout of a list page cost one query per distinct
 * set of arguments, not one per rollout.
 */
export interface TraceLoaders {
  tracePages(options: TracePageOptions): DataLoader<string, Page<LinkedTrace>>
  stepTracePages(options: TracePageOptions): DataLoader<StepKey, Page<LinkedTrace>, string>
  traceByRef: DataLoader<TraceRef, LinkedTrace | null, string>
  spans: DataLoader<string, LinkedSpan[]>
}

function perOptions<L>(make: (options: TracePageOptions) => L): (options: TracePageOptions) => L {
  const byOptions = new Map<string, L>()
  return (options) => {
    const key = JSON.stringify([options.errorOnly ?? false, options.first, options.after ?? null])
    let loader = byOptions.get(key)
    if (!loader) {
      loader = make(options)
      byOptions.set(key, loader)
    }
    return loader
  }
}

export function createTraceLoaders(store: Store): TraceLoaders {
  return {
    tracePages: perOptions((options) => new DataLoader((ids: readonly string[]) => store.evidence.tracesPages(ids, options))),
    stepTracePages: perOptions(
      (options) =>
        new DataLoader((steps: readonly StepKey[]) => store.evidence.stepTracesPages(steps, options), {
          cacheKeyFn: (s) => `${s.rolloutId}:${s.stepIndex}`,
        }),
    ),
    traceByRef: new DataLoader((refs: readonly TraceRef[]) => store.evidence.tracesByRef(refs), {
      cacheKeyFn: (r) => `${r.rolloutId}:${r.traceId.toLowerCase()}`,
    }),
    spans: new DataLoader((ids: readonly string[]) => store.evidence.spansOf(ids)),
  }
}
