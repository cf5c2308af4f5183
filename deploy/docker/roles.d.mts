/** Types of roles.mjs (plain JavaScript, so the image's entrypoint runs without tsx at start). */
export interface Role {
  /** The repository's program the role runs with tsx. */
  program: string
  /** The URL the health check asks, or null when the role has none. */
  health(): string | null
}
export declare const ROLES: Record<'embedded' | 'server' | 'controller' | 'web' | 'demo' | 'cli', Role>
export declare function currentRole(argv?: readonly string[], env?: NodeJS.ProcessEnv): string
