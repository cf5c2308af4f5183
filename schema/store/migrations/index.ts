import type { Kysely } from 'kysely'
import type { DialectName } from '../connect.ts'
import { initial } from './001-initial.ts'
import { leases } from './002-leases.ts'
import { providers } from './003-providers.ts'
import { webhooks } from './004-webhooks.ts'
import { linkedTraces } from './005-linked-traces.ts'
import { otlpAggregates } from './006-otlp-aggregates.ts'
import { policies } from './007-policies.ts'
import { decisionChain } from './008-decision-chain.ts'
import { tokenSecurity } from './009-token-security.ts'
import { evidenceRetention } from './010-evidence-retention.ts'

export interface Migration {
  /** Sorted by name; never renamed once released. */
  readonly name: string
  up(db: Kysely<unknown>, dialect: DialectName): Promise<void>
}

/** Every migration, oldest first. Append only. */
export const migrations: readonly Migration[] = [initial, leases, providers, webhooks, linkedTraces, otlpAggregates, policies, decisionChain, tokenSecurity, evidenceRetention]
