import type { Json } from '../store/models.ts'
import { isValidTraceId } from '../store/index.ts'

/**
 * Reads the evidence links a decision carries in its `evidence` JSON (written by the
 * controller, controller/evidence-links.ts): `traceIds` (32-hex ids of the rollout's
 * linked traces) and `logLines` ({ at, line, labels }). Stored JSON is read defensively:
 * entries of the wrong shape are skipped, never trusted.
 */

/** More than the controller writes; a bound against hand-written or old evidence. */
const MAX_READ = 100

export interface EvidenceLogLine {
  at: Date
  line: string
  labels: Record<string, string>
}

export function evidenceTraceIds(evidence: { [key: string]: Json }): string[] {
  const ids = evidence.traceIds
  if (!Array.isArray(ids)) return []
  return [...new Set(ids.filter(isValidTraceId).map((id) => id.toLowerCase()))].slice(0, MAX_READ)
}

export function evidenceLogLines(evidence: { [key: string]: Json }): EvidenceLogLine[] {
  const lines = evidence.logLines
  if (!Array.isArray(lines)) return []
  const read: EvidenceLogLine[] = []
  for (const entry of lines.slice(0, MAX_READ)) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue
    const at = typeof entry.at === 'string' || typeof entry.at === 'number' ? new Date(entry.at) : null
    if (at === null || Number.isNaN(at.getTime()) || typeof entry.line !== 'string') continue
    const labels: Record<string, string> = {}
    if (typeof entry.labels === 'object' && entry.labels !== null && !Array.isArray(entry.labels)) {
      for (const [key, value] of Object.entries(entry.labels)) if (typeof value === 'string') labels[key] = value
    }
    read.push({ at, line: entry.line, labels })
  }
  return read
}
