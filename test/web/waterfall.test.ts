import { describe, expect, it } from 'vitest'
import { formatSpanMs, layoutWaterfall, safeTraceUrl, waterfallTicks, type WaterfallSpan } from '../../web/lib/waterfall.ts'

function span(spanId: string, parentSpanId: string | null, startOffsetMs: number, durationMs: number, status: WaterfallSpan['status'] = 'OK'): WaterfallSpan {
  return { spanId, parentSpanId, name: `op ${spanId}`, startOffsetMs, durationMs, status }
}

const shape = (spans: WaterfallSpan[], options?: Parameters<typeof layoutWaterfall>[1]) =>
  layoutWaterfall(spans, options).rows.map((r) => [r.span.spanId, r.depth, Number(r.offsetPct.toFixed(2)), Number(r.widthPct.toFixed(2))])

describe('span waterfall layout', () => {
  it('nests spans under their parents in start order, with offsets and widths to scale', () => {
    // Given out of order, as a store may return them.
    const layout = layoutWaterfall([span('db', 'api', 20, 30), span('api', 'root', 10, 60), span('root', null, 0, 100), span('cache', 'api', 12, 4), span('render', 'root', 75, 25)])
    expect(layout.totalMs).toBe(100)
    expect(layout.rows.map((r) => [r.span.spanId, r.depth, r.offsetPct, r.widthPct, r.childCount])).toEqual([
      ['root', 0, 0, 100, 2],
      ['api', 1, 10, 60, 2],
      ['cache', 2, 12, 4, 0],
      ['db', 2, 20, 30, 0],
      ['render', 1, 75, 25, 0],
    ])
    expect(layout.errorCount).toBe(0)
  })

  it('marks error spans and counts them', () => {
    const layout = layoutWaterfall([span('root', null, 0, 50, 'ERROR'), span('child', 'root', 5, 10, 'ERROR'), span('ok', 'root', 20, 10, 'UNSET')])
    expect(layout.rows.map((r) => [r.span.spanId, r.error])).toEqual([
      ['root', true],
      ['child', true],
      ['ok', false],
    ])
    expect(layout.errorCount).toBe(2)
  })

  it('keeps a zero-length span visible without running past the end of the scale', () => {
    expect(shape([span('root', null, 0, 200), span('instant', 'root', 200, 0), span('early', 'root', 0, 0)], { minWidthPct: 1 })).toEqual([
      ['root', 0, 0, 100],
      ['early', 1, 0, 1],
      ['instant', 1, 99, 1],
    ])
  })

  it('puts spans whose parent was not kept at the top level, marked as orphans', () => {
    const layout = layoutWaterfall([span('root', null, 0, 10), span('lost-child', 'not-kept', 2, 3), span('grandchild', 'lost-child', 3, 1)])
    expect(layout.rows.map((r) => [r.span.spanId, r.depth, r.orphan])).toEqual([
      ['root', 0, false],
      ['lost-child', 0, true],
      ['grandchild', 1, false],
    ])
  })

  it('survives hostile data: cycles, self-parents, duplicate ids, negative and non-finite numbers', () => {
    const layout = layoutWaterfall([
      span('a', 'b', 0, 10),
      span('b', 'a', 1, 5),
      span('self', 'self', 2, 2),
      span('dup', null, 3, 1),
      span('dup', null, 4, 1),
      span('neg', null, -5, -3),
      span('nan', null, Number.NaN, Number.POSITIVE_INFINITY),
    ])
    const ids = layout.rows.map((r) => r.span.spanId)
    expect(ids.sort()).toEqual(['a', 'b', 'dup', 'nan', 'neg', 'self'])
    for (const row of layout.rows) {
      expect(row.offsetPct).toBeGreaterThanOrEqual(0)
      expect(row.widthPct).toBeGreaterThan(0)
      expect(row.offsetPct + row.widthPct).toBeLessThanOrEqual(100 + 1e-9)
    }
    expect(layout.totalMs).toBe(10)
    expect(layout.rows.find((r) => r.span.spanId === 'self')).toMatchObject({ depth: 0, orphan: false })
  })

  it('lays out a deep trace without recursion limits', () => {
    const deep = Array.from({ length: 20_000 }, (_, i) => span(`s${i}`, i === 0 ? null : `s${i - 1}`, i * 0.01, 200 - i * 0.01))
    const layout = layoutWaterfall(deep)
    expect(layout.rows).toHaveLength(20_000)
    expect(layout.rows.at(-1)!.depth).toBe(19_999)
  })

  it('an empty trace or one of zero length has nothing to scale: full-width bars, no division by zero', () => {
    expect(layoutWaterfall([])).toEqual({ rows: [], totalMs: 0, errorCount: 0 })
    expect(shape([span('root', null, 0, 0)])).toEqual([['root', 0, 0, 100]])
  })
})

describe('waterfall axis and labels', () => {
  it.each([
    [100, [0, 25, 50, 75, 100]],
    [1234, [0, 500, 1000]],
    [7, [0, 2, 4, 6]],
    [0.3, [0, 0.1, 0.2, 0.3]],
    [0, [0]],
    [Number.NaN, [0]],
  ])('ticks for %s ms', (total, ticks) => {
    expect(waterfallTicks(total)).toEqual(ticks)
  })

  it.each([
    [0.123, '0.12 ms'],
    [12.34, '12.3 ms'],
    [999, '999 ms'],
    [1300, '1.3 s'],
    [-4, '0 ms'],
  ])('formats %s ms as %s', (value, text) => {
    expect(formatSpanMs(value)).toBe(text)
  })
})

describe('trace links', () => {
  it('shows only http(s) links', () => {
    expect(safeTraceUrl('https://grafana.example/explore?trace=abc')).toBe('https://grafana.example/explore?trace=abc')
    expect(safeTraceUrl('http://127.0.0.1:3000/t/abc')).toBe('http://127.0.0.1:3000/t/abc')
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', '//evil.example', 'https://a b', '', null, undefined]) expect(safeTraceUrl(bad)).toBeNull()
  })
})
