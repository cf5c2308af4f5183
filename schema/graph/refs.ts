import type { Application, Rollout } from '../store/models.ts'
import { builder } from './builder.ts'

// Declared apart from their fields: Application and Rollout refer to each other, and a
// ref typed up front keeps that cycle out of TypeScript's inference.
export const ApplicationRef = builder.objectRef<Application>('Application')
export const RolloutRef = builder.objectRef<Rollout>('Rollout')
