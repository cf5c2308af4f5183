import { createRequire } from 'node:module'
import type BetterSqlite3 from 'better-sqlite3'

/**
 * Which better-sqlite3 build this Node can use. Neither major works on every Node we support:
 * - 12.x wraps its objects with Node's own `node::ObjectWrap`. Node 24.19+ makes that class
 *   remove an environment cleanup hook in its destructor, which aborts the process
 *   (`Assertion failed: (env) != nullptr`) when V8 collects a statement while no context is
 *   entered. Seen here as vitest forks dying on Node 24; other projects see servers abort.
 * - 13.x is built on node-addon-api, which does not have that problem, but it declares
 *   Node >= 22 and segfaults on Node 20.
 * Both are installed (13 under the npm alias `better-sqlite3-napi`, no install script) and the
 * store picks one by the running Node's major version. Their JavaScript API is the same.
 */
export function sqliteDriverModule(nodeMajor: number): 'better-sqlite3' | 'better-sqlite3-napi' {
  return nodeMajor >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3'
}

export type SqliteDatabaseConstructor = typeof BetterSqlite3

const requireFromHere = createRequire(import.meta.url)

/** The better-sqlite3 constructor that suits this process's Node. */
export function loadSqliteDriver(nodeMajor = Number(process.versions.node.split('.')[0])): SqliteDatabaseConstructor {
  return requireFromHere(sqliteDriverModule(nodeMajor)) as SqliteDatabaseConstructor
}

/** The version of the driver loaded for this Node, for `sentra version`-style diagnostics and tests. */
export function sqliteDriverVersion(nodeMajor = Number(process.versions.node.split('.')[0])): string {
  const pkg = requireFromHere(`${sqliteDriverModule(nodeMajor)}/package.json`) as { version: string }
  return pkg.version
}
