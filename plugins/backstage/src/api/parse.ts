import { SentraError } from './errors'
import { ROLLOUT_STATUSES, STEP_KINDS, STEP_STATUSES, type ApplicationRollouts, type Rollout, type RolloutDecision, type RolloutStep } from './types'

/**
 * Turns the `data` of APPLICATION_ROLLOUTS_QUERY into typed values, or throws a
 * SentraError('malformed') naming the first field that is not what the schema promises.
 * A proxy's HTML error page, an old Sentra or a misrouted URL must not crash the card or
 * show half-read values. Returns null when Sentra has no application of that name.
 */
export function parseApplicationRollouts(data: unknown): ApplicationRollouts | null {
  const root = object(data, 'data')
  if (root.application === null) return null
  const application = object(root.application, 'data.application')
  const active = edges(root.active, 'data.active')
  const recent = edges(root.recent, 'data.recent')
  return {
    name: string(application.name, 'data.application.name'),
    stableVersion: nullable(application.stableVersion, 'data.application.stableVersion', string),
    active: active[0] ?? null,
    recent,
  }
}

type Read<T> = (value: unknown, path: string) => T

function malformed(path: string, expected: string, value: unknown): SentraError {
  const seen = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value
  return new SentraError('malformed', `Sentra's answer is not in the expected shape: ${path} should be ${expected}, got ${seen}`)
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(path, 'an object', value)
  return value as Record<string, unknown>
}

function list<T>(value: unknown, path: string, item: Read<T>): T[] {
  if (!Array.isArray(value)) throw malformed(path, 'a list', value)
  return value.map((entry, i) => item(entry, `${path}[${i}]`))
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string') throw malformed(path, 'a string', value)
  return value
}

function integer(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw malformed(path, 'an integer', value)
  return value
}

function percent(value: unknown, path: string): number {
  const n = integer(value, path)
  if (n < 0 || n > 100) throw new SentraError('malformed', `Sentra's answer is not in the expected shape: ${path} should be a percentage (0-100), got ${n}`)
  return n
}

function oneOf<T extends string>(allowed: readonly T[]): Read<T> {
  return (value, path) => {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw malformed(path, `one of ${allowed.join(', ')}`, value)
    return value as T
  }
}

function nullable<T>(value: unknown, path: string, read: Read<T>): T | null {
  return value === null || value === undefined ? null : read(value, path)
}

function edges(value: unknown, path: string): Rollout[] {
  return list(object(value, path).edges, `${path}.edges`, (edge, edgePath) => rollout(object(edge, edgePath).node, `${edgePath}.node`))
}

function step(value: unknown, path: string): RolloutStep {
  const s = object(value, path)
  return {
    index: integer(s.index, `${path}.index`),
    kind: oneOf(STEP_KINDS)(s.kind, `${path}.kind`),
    status: oneOf(STEP_STATUSES)(s.status, `${path}.status`),
    setWeight: nullable(s.setWeight, `${path}.setWeight`, percent),
  }
}

function decision(value: unknown, path: string): RolloutDecision {
  const d = object(value, path)
  return {
    action: string(d.action, `${path}.action`),
    reason: string(d.reason, `${path}.reason`),
    at: string(d.at, `${path}.at`),
    actor: string(d.actor, `${path}.actor`),
  }
}

function rollout(value: unknown, path: string): Rollout {
  const r = object(value, path)
  return {
    id: string(r.id, `${path}.id`),
    status: oneOf(ROLLOUT_STATUSES)(r.status, `${path}.status`),
    canaryWeight: percent(r.canaryWeight, `${path}.canaryWeight`),
    fromVersion: nullable(r.fromVersion, `${path}.fromVersion`, string),
    toVersion: string(r.toVersion, `${path}.toVersion`),
    createdAt: string(r.createdAt, `${path}.createdAt`),
    startedAt: nullable(r.startedAt, `${path}.startedAt`, string),
    finishedAt: nullable(r.finishedAt, `${path}.finishedAt`, string),
    currentStepIndex: integer(r.currentStepIndex, `${path}.currentStepIndex`),
    steps: list(r.steps, `${path}.steps`, step),
    lastDecision: nullable(r.lastDecision, `${path}.lastDecision`, decision),
  }
}
