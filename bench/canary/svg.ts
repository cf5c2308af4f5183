/**
 * A dependency-free SVG chart of the results: one row per scenario, one bar per rule, the
 * median time to the expected decision (rollback for a regression, promotion for a healthy
 * canary) on a log scale, the SPRT bound as a black tick, and "missed" where the median
 * run never got there.
 */
import type { RuleScenarioStats } from './report.ts'
import type { SprtBound } from './sprt.ts'
import type { Scenario } from './scenarios.ts'

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b']
const MIN_S = 1
const MAX_S = 3600

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

export function svgChart(scenarios: readonly Scenario[], rules: readonly string[], stats: readonly RuleScenarioStats[], sprt: ReadonlyMap<string, SprtBound>): string {
  const left = 190
  const width = 900
  const plot = width - left - 30
  const bar = 9
  const rowHeight = rules.length * (bar + 2) + 12
  const top = 50
  const height = top + scenarios.length * rowHeight + 60
  const x = (s: number): number => left + (Math.log10(Math.min(MAX_S, Math.max(MIN_S, s))) / Math.log10(MAX_S / MIN_S)) * plot
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`)
  out.push(`<rect width="100%" height="100%" fill="white"/>`)
  out.push(`<text x="${left}" y="18" font-size="14" font-weight="bold">Canary benchmark: median seconds to the expected decision (log scale)</text>`)
  out.push(`<text x="${left}" y="34" fill="#555">regressions: onset → rollback; healthy (✓): start → promotion; black tick: SPRT bound</text>`)
  for (const tick of [1, 10, 60, 300, 600, 1800, 3600]) {
    out.push(`<line x1="${x(tick)}" y1="${top - 6}" x2="${x(tick)}" y2="${height - 50}" stroke="#ddd"/>`)
    out.push(`<text x="${x(tick)}" y="${height - 36}" text-anchor="middle" fill="#555">${tick < 60 ? `${tick} s` : `${tick / 60} m`}</text>`)
  }
  scenarios.forEach((s, row) => {
    const y0 = top + row * rowHeight
    out.push(`<text x="${left - 8}" y="${y0 + rowHeight / 2}" text-anchor="end">${escape(s.name)}${s.expected === 'promote' ? ' ✓' : ''}</text>`)
    rules.forEach((rule, i) => {
      const st = stats.find((t) => t.rule === rule && t.scenario === s.name)
      const median = s.expected === 'rollback' ? (st?.detectionSeconds?.median ?? null) : (st?.promoteSeconds?.median ?? null)
      const y = y0 + i * (bar + 2)
      const colour = COLOURS[i % COLOURS.length]!
      if (st === undefined) return
      if (median === null) {
        out.push(`<text x="${left + 4}" y="${y + bar - 1}" fill="${colour}">${escape(rule)}: ${s.expected === 'rollback' ? 'missed' : 'not promoted'}</text>`)
        return
      }
      out.push(`<rect x="${left}" y="${y}" width="${Math.max(1, x(median) - left)}" height="${bar}" fill="${colour}"><title>${escape(`${rule}: ${median} s`)}</title></rect>`)
      out.push(`<text x="${x(median) + 4}" y="${y + bar - 1}" fill="#333">${median >= 100 ? Math.round(median) : Math.round(median * 10) / 10}</text>`)
    })
    const bound = sprt.get(s.name)?.seconds ?? null
    if (bound !== null) out.push(`<line x1="${x(bound)}" y1="${y0 - 2}" x2="${x(bound)}" y2="${y0 + rules.length * (bar + 2)}" stroke="black" stroke-width="2"/>`)
  })
  const legendY = height - 16
  rules.forEach((rule, i) => {
    out.push(`<rect x="${left + i * 110}" y="${legendY - 9}" width="10" height="10" fill="${COLOURS[i % COLOURS.length]}"/>`)
    out.push(`<text x="${left + i * 110 + 14}" y="${legendY}">${escape(rule)}</text>`)
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
