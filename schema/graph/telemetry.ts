import type { TelemetryWindow } from '../store/models.ts'
import { builder } from './builder.ts'

interface SignalValue {
  signal: string
  value: number | null
}

const SignalValueRef = builder.objectRef<SignalValue>('SignalValue').implement({
  description: 'One signal over a window. Rates and ratios are fractions, durations seconds; null is no data.',
  fields: (t) => ({
    signal: t.exposeString('signal'),
    value: t.exposeFloat('value', { nullable: true }),
  }),
})

function values(map: TelemetryWindow['canary']): SignalValue[] {
  return Object.entries(map)
    .map(([signal, value]) => ({ signal, value: typeof value === 'number' && Number.isFinite(value) ? value : null }))
    .sort((a, b) => a.signal.localeCompare(b.signal))
}

export const TelemetryWindowRef = builder.objectRef<TelemetryWindow>('TelemetryWindow').implement({
  description: 'Telemetry for the canary and the baseline over one evaluation window.',
  fields: (t) => ({
    id: t.exposeID('id'),
    stepIndex: t.exposeInt('stepIndex'),
    provider: t.exposeString('provider'),
    startAt: t.expose('startAt', { type: 'DateTime' }),
    endAt: t.expose('endAt', { type: 'DateTime' }),
    canary: t.field({ type: [SignalValueRef], resolve: (w) => values(w.canary) }),
    baseline: t.field({ type: [SignalValueRef], resolve: (w) => values(w.baseline) }),
  }),
})
