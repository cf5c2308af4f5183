import { parse, validate } from 'graphql'
import { describe, expect, it } from 'vitest'
import { graphSchema } from '../../schema/graph/index.ts'
import { parsePolicy } from '../../schema/policy.ts'
import { parseProviderSpec } from '../../schema/provider-spec.ts'
import { parseSpec } from '../../schema/spec.ts'
import { generateCase, mutateText } from './cases.ts'
import { DocumentGenerator } from './documents.ts'
import type { Known } from './hostile.ts'
import { Rng } from './prng.ts'
import { validPolicy, validProvider, validSpec } from './specs.ts'

/** The fuzz generators themselves: reproducible, and their "valid" output really is valid (else the fuzz tests less than it claims). */
describe('fuzz generators', () => {
  const known: Known = {
    applications: ['fz-a'],
    rolloutIds: [Buffer.from('Rollout:0d6f3b1e-8f7a-4c1b-9a55-3f0c2f8e9b10').toString('base64')],
    applicationIds: [Buffer.from('Application:1d6f3b1e-8f7a-4c1b-9a55-3f0c2f8e9b10').toString('base64')],
    tokenIds: [],
    webhookIds: [],
    policies: ['fz-policy'],
    providers: ['fz-prom'],
  }
  const ctx = { schema: graphSchema(), known, token: 'fuzz-token' }

  it('derives every case from the seed and its index alone', () => {
    for (let i = 0; i < 200; i++) {
      const a = generateCase(42, i, ctx)
      const b = generateCase(42, i, ctx)
      expect(JSON.stringify(b.request)).toBe(JSON.stringify(a.request))
    }
    expect(JSON.stringify(generateCase(43, 0, ctx).request)).not.toBe(JSON.stringify(generateCase(42, 0, ctx).request))
    expect(new Rng(7).next()).toBe(new Rng(7).next())
  })

  it('makes valid operations when asked to, of every kind', () => {
    const generator = new DocumentGenerator(ctx.schema, known)
    for (let i = 0; i < 300; i++) {
      const kind = (['query', 'mutation', 'subscription'] as const)[i % 3]
      const op = generator.operation(new Rng(i), { kind, forceValid: true })
      const errors = validate(ctx.schema, parse(op.query))
      expect(errors.map((e) => e.message), op.query).toEqual([])
    }
  })

  it('makes specs, policies and providers that pass validation before mutating them', () => {
    for (let i = 0; i < 100; i++) {
      const rng = new Rng(i)
      const spec = parseSpec(validSpec(rng, `fz-${i}`))
      expect(spec.ok ? [] : spec.issues).toEqual([])
      const policy = parsePolicy(validPolicy(rng, `fz-policy-${i}`))
      expect(policy.ok ? [] : policy.issues).toEqual([])
      const provider = parseProviderSpec(validProvider(rng, `fz-prov-${i}`))
      expect(provider.ok ? [] : provider.issues).toEqual([])
    }
  })

  it('mutates text into something else, and never throws', () => {
    const rng = new Rng(1)
    const base = '{ applications(first: 5) { edges { node { id name } } } }'
    let changed = 0
    for (let i = 0; i < 500; i++) if (mutateText(rng, base) !== base) changed++
    expect(changed).toBeGreaterThan(450)
  })
})
