import { vi } from 'vitest'
import { faultSpec } from './support.ts'
import { killControllerSuite } from './kill-suite.ts'

vi.setConfig({ testTimeout: 20 * 60_000, hookTimeout: 120_000 })

// Issue #9, item 2, on the process target: SENTRA_FAULT_KILLS (default 50) SIGKILLs across
// SENTRA_FAULT_APPS (default 6) applications; SENTRA_FAULT_SEED replays a run (kill-suite.ts).
killControllerSuite({
  kind: 'process',
  kills: Number(process.env.SENTRA_FAULT_KILLS ?? 50),
  apps: Number(process.env.SENTRA_FAULT_APPS ?? 6),
  seed: Number(process.env.SENTRA_FAULT_SEED ?? 9_2026),
  spec: (name, port) => faultSpec(name, port, { interval: '1s', analyzeMin: '3s' }),
})
