/** Sentra for Backstage: an entity card with the component's current and recent rollouts. */
export { sentraPlugin, EntitySentraRolloutsCard, createSentraClientFromConfig, DEFAULT_PROXY_PATH } from './plugin'
export { SentraRolloutsCard, type SentraRolloutsCardProps } from './components/SentraRolloutsCard'
export { SentraClient, type SentraClientOptions, type ApplicationRolloutsOptions, type FetchLike } from './api/SentraClient'
export { sentraApiRef, type SentraApi } from './api/SentraApi'
export { SentraError, type SentraErrorKind } from './api/errors'
export type { ApplicationRollouts, Rollout, RolloutDecision, RolloutStatus, RolloutStep, StepKind, StepStatus } from './api/types'
export { SENTRA_APPLICATION_ANNOTATION, isSentraAvailable, entityApplication, type SentraEntity, type EntityApplication } from './entity'
