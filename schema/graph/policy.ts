import { parseGuardrails, parsePolicy, type GuardrailDocument, type PolicyDocument } from '../policy.ts'
import type { StoredPolicy } from '../store/policies.ts'
import { builder } from './builder.ts'
import { invalidDocument, notFound } from './errors.ts'

const PolicyRef = builder.objectRef<StoredPolicy<PolicyDocument>>('Policy').implement({
  description: 'A named, reusable part of an application spec (gates, strategy, interval, inconclusiveLimit) that applications reference with `policy: <name>`.',
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.string({ nullable: true, resolve: (p) => p.spec.description ?? null }),
    spec: t.field({ type: 'JSON', description: 'The policy document as applied.', resolve: (p) => p.spec }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
})

const GuardrailsRef = builder.objectRef<StoredPolicy<GuardrailDocument>>('Guardrails').implement({
  description: 'Rules every application of an environment must satisfy at apply (`*`: every environment).',
  fields: (t) => ({
    environment: t.exposeString('name'),
    rules: t.field({ type: 'JSON', resolve: (g) => g.spec.rules }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
})

builder.queryFields((t) => ({
  policies: t.field({ type: [PolicyRef], resolve: (_root, _args, ctx) => ctx.store.policies.list<PolicyDocument>('policy') }),
  guardrails: t.field({ type: [GuardrailsRef], resolve: (_root, _args, ctx) => ctx.store.policies.list<GuardrailDocument>('guardrail') }),
}))

builder.mutationFields((t) => ({
  applyPolicy: t.field({
    type: PolicyRef,
    description: 'Creates or replaces a policy. Applications take it when they are applied (again): a policy is resolved at apply, like a template.',
    authScopes: { admin: true },
    args: { spec: t.arg({ type: 'JSON', required: true }) },
    resolve: async (_root, args, ctx) => {
      const parsed = parsePolicy(args.spec)
      if (!parsed.ok) throw invalidDocument('policy', parsed.issues)
      return ctx.store.policies.upsert('policy', parsed.value.name, parsed.value)
    },
  }),
  deletePolicy: t.boolean({
    authScopes: { admin: true },
    args: { name: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      if (!(await ctx.store.policies.delete('policy', args.name.slice(0, 63)))) throw notFound(`no policy named ${args.name.slice(0, 63)}`)
      return true
    },
  }),
  applyGuardrails: t.field({
    type: GuardrailsRef,
    description: 'Creates or replaces the guardrails of an environment; they apply to applications applied from now on.',
    authScopes: { admin: true },
    args: { spec: t.arg({ type: 'JSON', required: true }) },
    resolve: async (_root, args, ctx) => {
      const parsed = parseGuardrails(args.spec)
      if (!parsed.ok) throw invalidDocument('guardrails', parsed.issues)
      return ctx.store.policies.upsert('guardrail', parsed.value.environment, parsed.value)
    },
  }),
  deleteGuardrails: t.boolean({
    authScopes: { admin: true },
    args: { environment: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      if (!(await ctx.store.policies.delete('guardrail', args.environment.slice(0, 63)))) throw notFound(`no guardrails for environment ${args.environment.slice(0, 63)}`)
      return true
    },
  }),
}))
