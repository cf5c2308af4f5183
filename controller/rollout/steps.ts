/**
 * Reads a snapshotted step. Steps come back from the store as JSON, and blue/green's
 * analyze step may be `{}` (defaults), so this accepts either the derived millisecond
 * fields or the duration text, and says plainly what is wrong otherwise.
 */
import type { PlannedStep } from '../../schema/rollout-steps.ts'
import { DurationError, parseDuration } from '../../schema/spec/duration.ts'

export type StepPlan =
  | { kind: 'setWeight'; weight: number }
  | { kind: 'analyze'; minMs: number; maxMs: number | null }
  | { kind: 'pause'; durationMs: number | null }

/** The step's plan, or a sentence saying why it cannot be run. */
export function readStep(step: PlannedStep): StepPlan | string {
  const body = step.spec[step.kind]
  switch (step.kind) {
    case 'setWeight':
      return typeof body === 'number' && Number.isInteger(body) && body >= 0 && body <= 100
        ? { kind: 'setWeight', weight: body }
        : `setWeight must be a whole percentage 0..100 (got ${JSON.stringify(body) ?? 'nothing'})`
    case 'analyze': {
      const fields = record(body ?? {})
      if (fields === null) return 'analyze must be an object such as { min: 20s }'
      const minMs = durationField(fields, 'min')
      const maxMs = durationField(fields, 'max')
      if (typeof minMs === 'string') return minMs
      if (typeof maxMs === 'string') return maxMs
      return { kind: 'analyze', minMs: minMs ?? 0, maxMs }
    }
    case 'pause': {
      const fields = record(body ?? {})
      if (fields === null) return 'pause must be an object such as {} or { duration: 1m }'
      const durationMs = durationField(fields, 'duration')
      return typeof durationMs === 'string' ? durationMs : { kind: 'pause', durationMs }
    }
  }
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null
}

/** `<name>Ms` when present, else `<name>` parsed; null when neither is set; a string on error. */
function durationField(fields: Record<string, unknown>, name: string): number | null | string {
  const ms = fields[`${name}Ms`]
  if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) return ms
  const text = fields[name]
  if (text === undefined || text === null) return null
  if (typeof text !== 'string') return `${name} must be a duration such as "30s"`
  try {
    return parseDuration(text)
  } catch (error) {
    if (error instanceof DurationError) return `${name} ${error.message}`
    throw error
  }
}
