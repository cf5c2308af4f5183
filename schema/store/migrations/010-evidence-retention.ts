import type { Migration } from './index.ts'

/**
 * Evidence retention (controller/evidence-retention.ts): when a finished rollout's telemetry
 * windows and gate results were deleted. The index finds the rollouts still to prune without
 * reading those already pruned: NULL first, then by when they finished.
 */
export const evidenceRetention: Migration = {
  name: '010-evidence-retention',
  async up(db) {
    await db.schema.alterTable('rollouts').addColumn('evidence_pruned_at', 'bigint').execute()
    await db.schema.createIndex('rollouts_evidence_to_prune').on('rollouts').columns(['evidence_pruned_at', 'finished_at']).execute()
  },
}
