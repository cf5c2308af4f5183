import { applyPolicy, checkGuardrails, violationIssue, type GuardrailDocument, type PolicyDocument } from './policy.ts'
import { parseSpec, type AppSpec, type SpecIssue } from './spec.ts'
import { DEFAULT_ENVIRONMENT } from './spec/normalize.ts'
import { readSpecInput } from './spec/input.ts'
import type { PolicyRepository } from './store/policies.ts'

export type PreparedApplication = { ok: true; spec: AppSpec } | { ok: false; issues: SpecIssue[] }

/**
 * An application spec as it will be stored: its policy applied (the application's own
 * fields win), validated, and checked against the guardrails of its environment and of
 * every environment (`*`). The one path for `applyApplication` and SENTRA_CONFIG.
 */
export async function prepareApplication(policies: PolicyRepository, input: unknown): Promise<PreparedApplication> {
  const read = readSpecInput(input)
  if (!read.ok) return { ok: false, issues: read.issues }
  let raw = read.value as Record<string, unknown>
  if (raw.policy !== undefined) {
    if (typeof raw.policy !== 'string') return { ok: false, issues: [{ path: 'policy', message: 'must be the name of a policy' }] }
    const policy = await policies.byName<PolicyDocument>('policy', raw.policy)
    if (!policy) {
      const known = (await policies.list('policy')).map((p) => p.name)
      return { ok: false, issues: [{ path: 'policy', message: `no policy named "${raw.policy.slice(0, 63)}"; ${known.length > 0 ? `known: ${known.slice(0, 20).join(', ')}` : 'none is defined (applyPolicy)'}` }] }
    }
    raw = applyPolicy(raw, policy.spec)
  }
  const parsed = parseSpec(raw)
  if (!parsed.ok) return parsed
  const environment = parsed.spec.environment ?? DEFAULT_ENVIRONMENT
  const sets = [await policies.byName<GuardrailDocument>('guardrail', environment), await policies.byName<GuardrailDocument>('guardrail', '*')]
  const violations = sets.flatMap((set) => (set ? checkGuardrails(parsed.spec, set.spec) : []))
  if (violations.length > 0) return { ok: false, issues: violations.map(violationIssue) }
  return parsed
}
