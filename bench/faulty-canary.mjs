#!/usr/bin/env node
// The detection benchmark's application (bench/detection.ts): services/demo.mjs, unchanged,
// with a fault onset at a known moment for one version only. The spec's env is the same for
// every version, so the fault is switched on here, by version:
//
//   BENCH_FAULT_VERSION      the version that degrades (e.g. v3); every other version runs
//                            services/demo.mjs exactly as the spec's env says
//   BENCH_FAULT_AFTER_MS     ms after the demo starts listening -> DEMO_FAIL_AFTER_MS
//   BENCH_FAULT_ERROR_RATE   the error rate from then on          -> DEMO_ERROR_RATE_AFTER
//
// For the faulty version it prints one line with the wall-clock time of the onset:
//   bench-fault-onset-ms=<epoch ms> (<ISO time>)
// services/demo.mjs sets its start time (`startedAt = Date.now()`) in its listen callback and
// writes its "listening on" line in the same synchronous callback, so the time at which that
// line is written is its start time (to well under a millisecond), and start + after is the
// onset. The benchmark reads the line from the process target's log of the child's stdout.
const faulty = process.env.BENCH_FAULT_VERSION
const version = process.env.APP_VERSION || 'v1'

if (faulty && version === faulty) {
  const after = process.env.BENCH_FAULT_AFTER_MS
  if (!after) {
    process.stderr.write('faulty-canary: BENCH_FAULT_AFTER_MS is not set\n')
    process.exit(2)
  }
  process.env.DEMO_FAIL_AFTER_MS = after
  if (process.env.BENCH_FAULT_ERROR_RATE) process.env.DEMO_ERROR_RATE_AFTER = process.env.BENCH_FAULT_ERROR_RATE
  const afterMs = Number(after)
  const write = process.stdout.write.bind(process.stdout)
  let announced = false
  process.stdout.write = (chunk, ...rest) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    if (!announced && text.includes(' listening on ')) {
      announced = true
      const onset = Date.now() + afterMs
      write(`bench-fault-onset-ms=${onset} (${new Date(onset).toISOString()})\n`)
    }
    return write(chunk, ...rest)
  }
} else {
  // Only the faulty version degrades, whatever the environment says.
  delete process.env.DEMO_FAIL_AFTER_MS
  delete process.env.DEMO_ERROR_RATE_AFTER
}

await import(new URL('../services/demo.mjs', import.meta.url).href)
