/**
 * Which load generator the proxy benchmark runs. Both take the same arguments and print the
 * same JSON line (see load.mjs):
 * - `go` (the default): loadgen.go, built here with Debian's golang-go. It costs the shared
 *   cores a fraction of what the Node one does, so its own stalls no longer set the p99 of
 *   every path (docs/benchmarks.md, "proxy");
 * - `node`: load.mjs, what the benchmark used before; chosen with BENCH_LOAD_GENERATOR=node,
 *   or when `go` is missing and the choice was left to the default (the summary says so).
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildGo, goAvailable } from '../../test/support/go.ts'

export interface LoadGenerator {
  name: 'go' | 'node'
  command: string
  /** Arguments before the mode. */
  args: string[]
  /** Why the Go generator was not used although nobody asked for the Node one. */
  note?: string
}

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))

export const NODE_LOAD_GENERATOR: LoadGenerator = { name: 'node', command: process.execPath, args: [here('./load.mjs')] }

/** Parses BENCH_LOAD_GENERATOR: unset means the default (go, falling back to node). */
export function loadGeneratorChoice(value: string | undefined): 'go' | 'node' | 'default' {
  if (value === undefined || value === '') return 'default'
  if (value === 'go' || value === 'node') return value
  throw new RangeError(`BENCH_LOAD_GENERATOR must be go or node, got ${JSON.stringify(value)}`)
}

/**
 * Builds loadgen.go into `dir` when Go is wanted; an explicit `go` without Go installed is an
 * error, the default falls back to Node and says why.
 */
export async function prepareLoadGenerator(choice: 'go' | 'node' | 'default', dir: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadGenerator> {
  if (choice === 'node') return NODE_LOAD_GENERATOR
  if (!goAvailable(env)) {
    const why = 'go is not installed (apt-get install -y golang-go)'
    if (choice === 'go') throw new Error(`BENCH_LOAD_GENERATOR=go: ${why}`)
    return { ...NODE_LOAD_GENERATOR, note: `${why}; the Node load generator was used, whose own CPU sets much of every path's p99 on a small machine` }
  }
  const binary = join(dir, 'loadgen')
  buildGo({ target: here('./loadgen.go'), out: binary })
  return { name: 'go', command: binary, args: [] }
}
