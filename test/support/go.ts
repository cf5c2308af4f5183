import { execFileSync, spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Go programs the tests and benchmarks build with Debian's golang-go (.ci/run installs it):
 * the Helm renderer (helm.ts) and the proxy benchmark's load generator
 * (bench/proxy/load-generator.ts). GOPATH mode against Debian's packaged libraries under
 * /usr/share/gocode, so a build never downloads a module.
 */

/** Whether `go` answers on the PATH of `env`. */
export function goAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore', env }).status === 0
}

/** `go build -o <out> <target>` in `cwd` (target: a package dir such as `.`, or a .go file); throws with go's error output. */
export function buildGo({ cwd, target, out }: { cwd?: string; target: string; out: string }): void {
  execFileSync('go', ['build', '-o', out, target], {
    cwd,
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOFLAGS: '', GOCACHE: join(tmpdir(), 'sentra-go-cache') },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
}
