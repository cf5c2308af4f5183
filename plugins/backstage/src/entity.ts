import { useVersionedContext } from '@backstage/version-bridge'
import { isApplicationName } from './api/names'

/** The annotation naming the Sentra application of a catalog entity. */
export const SENTRA_APPLICATION_ANNOTATION = 'sentra.dev/application'

/** The part of a Backstage catalog entity the plugin reads (structurally a `@backstage/catalog-model` Entity). */
export interface SentraEntity {
  metadata: {
    name: string
    annotations?: Record<string, string>
  }
}

export type EntityApplication =
  | { kind: 'missing' }
  | { kind: 'invalid'; value: string }
  | { kind: 'ok'; application: string }

/** Which Sentra application the entity names, checked the way Sentra checks names. */
export function entityApplication(entity: SentraEntity): EntityApplication {
  const raw = entity.metadata.annotations?.[SENTRA_APPLICATION_ANNOTATION]
  if (raw === undefined || raw.trim() === '') return { kind: 'missing' }
  const value = raw.trim()
  return isApplicationName(value) ? { kind: 'ok', application: value } : { kind: 'invalid', value }
}

/** For `<EntitySwitch.Case if={isSentraAvailable}>`: the entity carries the annotation. */
export function isSentraAvailable(entity: SentraEntity): boolean {
  return entityApplication(entity).kind !== 'missing'
}

/** What @backstage/plugin-catalog-react's EntityProvider puts in the versioned context (v1). */
interface EntityContextV1 {
  entity?: SentraEntity
  loading: boolean
  error?: Error
}

/**
 * The entity of the page the card is on. This reads the same versioned React context that
 * `useEntity()` of @backstage/plugin-catalog-react reads ('entity-context', version 1,
 * through @backstage/version-bridge), so the plugin does not depend on that package and its
 * Material UI tree. Null outside an entity page (pass the `entity` prop there).
 */
export function useCatalogEntity(): SentraEntity | null {
  const holder = useVersionedContext<{ 1: EntityContextV1 }>('entity-context')
  return holder?.atVersion(1)?.entity ?? null
}
