import { useApi } from '@backstage/core-plugin-api'
import { sentraApiRef } from '../api/SentraApi'
import { entityApplication, useCatalogEntity, type SentraEntity } from '../entity'
import { RolloutsCardView } from './RolloutsCardView'
import { useApplicationRollouts } from './useApplicationRollouts'

export interface SentraRolloutsCardProps {
  /** The entity to show; by default the one of the entity page the card is on. */
  entity?: SentraEntity
  /** How many recent rollouts to list (1-100; default 5). */
  recent?: number
  /** Reload this often while on the page (default 15 s; 0: load once). */
  refreshIntervalMs?: number
}

/**
 * The entity card: the current rollout of the entity's Sentra application (status, weight,
 * step, last decision) and its recent rollouts, each linked to Sentra's dashboard.
 */
export function SentraRolloutsCard({ entity: given, recent = 5, refreshIntervalMs = 15_000 }: SentraRolloutsCardProps) {
  const api = useApi(sentraApiRef)
  const fromPage = useCatalogEntity()
  const entity = given ?? fromPage
  if (entity === null) {
    throw new Error('SentraRolloutsCard: no entity. Put the card on an entity page (inside EntityLayout), or pass the entity prop.')
  }
  const target = entityApplication(entity)
  const state = useApplicationRollouts(api, target.kind === 'ok' ? target.application : null, { recent, refreshIntervalMs })
  return <RolloutsCardView entityName={entity.metadata.name} target={target} state={state} dashboardUrl={api.dashboardUrl} now={Date.now()} />
}
