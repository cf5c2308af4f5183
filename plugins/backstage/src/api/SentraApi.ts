import { createApiRef } from '@backstage/core-plugin-api'
import type { ApplicationRolloutsOptions } from './SentraClient'
import type { ApplicationRollouts } from './types'

/** What the card needs from Sentra; SentraClient implements it (swap it in tests or apps). */
export interface SentraApi {
  /** Null when Sentra has no application of that name; throws a SentraError otherwise. */
  getApplicationRollouts(application: string, options?: ApplicationRolloutsOptions): Promise<ApplicationRollouts | null>
  /** Where the card links to (Sentra's dashboard), or null for no links. */
  readonly dashboardUrl: string | null
}

export const sentraApiRef = createApiRef<SentraApi>({ id: 'plugin.sentra.service' })
