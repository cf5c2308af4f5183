/**
 * The roles the image runs (its first argument), each a program of the repository run with
 * tsx, and where each answers its health check. Shared by the entrypoint and the health check.
 */
export const ROLES = {
  embedded: { program: 'embedded.ts', health: () => `http://127.0.0.1:${process.env.SENTRA_PORT || 4000}/healthz` },
  server: { program: 'server/main.ts', health: () => `http://127.0.0.1:${process.env.SENTRA_PORT || 4000}/healthz` },
  controller: {
    program: 'controller/main.ts',
    // A controller serves HTTP only with SENTRA_METRICS_PORT; without it, it is healthy while it runs.
    health: () => (process.env.SENTRA_METRICS_PORT ? `http://127.0.0.1:${process.env.SENTRA_METRICS_PORT}/metrics` : null),
  },
  web: { program: 'web/main.ts', health: () => `http://127.0.0.1:${process.env.SENTRA_WEB_PORT || 3000}/login` },
  // The live demo against the shared store and bus (the compose stack): no port of its own.
  demo: { program: 'controller/demo/main.ts', health: () => null },
  cli: { program: 'cli/sentra.ts', health: () => null },
}

/** The role the container was started with (kept in an environment variable for the health check). */
export function currentRole(argv = process.argv.slice(2), env = process.env) {
  return argv[0] ?? env.SENTRA_ROLE ?? 'embedded'
}
