/**
 * `npm run bench -- <name>`: runs bench/<name>.ts's `run()` and prints its JSON summary to
 * stdout (progress goes to stderr). A new benchmark is a file exporting
 * `run(): Promise<object>` plus one line in BENCHMARKS.
 */

interface Benchmark {
  run(): Promise<object>
}

const BENCHMARKS: Record<string, () => Promise<Benchmark>> = {
  api: () => import('./api.ts'),
  detection: () => import('./detection.ts'),
  canary: () => import('./canary/index.ts'),
  controller: () => import('./controller/index.ts'),
  dashboard: () => import('./dashboard.ts'),
  fanout: () => import('./fanout/index.ts'),
  otlp: () => import('./otlp.ts'),
  proxy: () => import('./proxy/index.ts'),
  targets: () => import('./targets.ts'),
}

const name = process.argv[2]
const load = name === undefined ? undefined : BENCHMARKS[name]
if (!load) {
  console.error(`${name === undefined ? 'no benchmark named' : `unknown benchmark "${name}"`}; available: ${Object.keys(BENCHMARKS).join(', ')}`)
  console.error('usage: npm run bench -- <name>')
  process.exit(2)
}

try {
  const summary = await (await load()).run()
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
} catch (error) {
  console.error(`benchmark ${name} failed:`, error)
  process.exitCode = 1
}
