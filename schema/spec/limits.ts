/** Defaults filled into the normalized spec, and the limits a spec must stay within. */

export const DEFAULT_INTERVAL = '5s'
export const DEFAULT_INCONCLUSIVE_LIMIT = 6
export const DEFAULT_HEALTH_PATH = '/healthz'
export const DEFAULT_ALPHA = 0.01
/** strategy.canary.adaptive.risk: half of the margin unused earns the full maxStep. */
export const DEFAULT_ADAPTIVE_RISK = 0.5
export const DEFAULT_SCALE_DOWN_DELAY = '30s'

/** Defaults of the mannWhitney judge (Kayenta's NetflixACAJudge: tolerance 0.25, confLevel 0.98, scores 95/75). */
export const MANN_WHITNEY_DEFAULTS = {
  direction: 'increase',
  allowedIncrease: 1,
  allowedDecrease: 1,
  critical: false,
  criticalIncrease: 1,
  criticalDecrease: 1,
  tolerance: 0.25,
  confidence: 0.98,
  weight: 1,
  minSamples: 10,
  maxSamples: 60,
  scoreThresholds: { pass: 95, marginal: 75 },
} as const
/** Defaults of the anomaly judge. */
export const ANOMALY_DEFAULTS = { subject: 'canary', direction: 'increase', falseAlarmRate: 0.001, window: '30m' } as const

/** Text input larger than this (in UTF-8 bytes) is rejected before parsing. */
export const MAX_SPEC_BYTES = 256 * 1024
/** YAML aliases (`*ref`) a document may expand; stops billion-laughs documents. */
export const MAX_YAML_ALIASES = 100
/** Deepest nesting of mappings and lists a spec may have. */
export const MAX_DEPTH = 32
export const MAX_STEPS = 100
export const MAX_GATES = 50
export const MAX_QUERY_BYTES = 8 * 1024
export const PROVIDERS = ['prometheus', 'loki', 'tempo'] as const
