import { describe, expect, it } from 'vitest'
import { formatApart, formatIncrease, formatRatio, formatValue, formatWindowSeconds, labelOf } from './format.ts'
import { queryGate, signalGate } from './testing.ts'

describe('format', () => {
  it.each([
    [0.079, 'fraction', '7.9 %'],
    [0.0004, 'fraction', '0.04 %'],
    [0, 'fraction', '0.0 %'],
    [1, 'fraction', '100.0 %'],
    [0.412, 'seconds', '412 ms'],
    [0.0123, 'seconds', '12.3 ms'],
    [0.00004, 'seconds', '0.04 ms'],
    [12.5, 'seconds', '12.5 s'],
    [12.34, 'req/s', '12.3 req/s'],
    [0.123456, null, '0.1235'],
    [Number.NaN, 'fraction', 'NaN'],
  ] as const)('%s %s → %s', (value, unit, text) => {
    expect(formatValue(value, unit)).toBe(text)
  })

  it('keeps two different values apart', () => {
    expect(formatApart(0.0501, 0.05, 'fraction')).toEqual(['5.01 %', '5.00 %'])
    expect(formatApart(0.05, 0.05, 'fraction')).toEqual(['5.0 %', '5.0 %'])
    expect(formatApart(0.2501, 0.25, 'seconds')).toEqual(['250.1 ms', '250.0 ms'])
    expect(formatApart(0.3, 0.1, 'fraction')).toEqual(['30.0 %', '10.0 %'])
  })

  it('formats limits and windows', () => {
    expect(formatIncrease(0.01, 'fraction')).toBe('+1.0 %')
    expect(formatIncrease(0.05, 'seconds')).toBe('+50.0 ms')
    expect(formatRatio(1.5)).toBe('×1.5')
    expect(formatRatio(2)).toBe('×2')
    expect(formatWindowSeconds(20)).toBe('20 s')
    expect(formatWindowSeconds(2.5)).toBe('2.5 s')
    expect(formatWindowSeconds(90)).toBe('90 s')
    expect(formatWindowSeconds(300)).toBe('5 min')
    expect(formatWindowSeconds(150)).toBe('2 min 30 s')
  })

  it('names values the way people say them', () => {
    expect(labelOf(signalGate('errorRate', { kind: 'threshold', max: 1 }))).toBe('error rate')
    expect(labelOf(signalGate('latencyP95', { kind: 'threshold', max: 1 }))).toBe('p95')
    expect(labelOf(queryGate('queue', { kind: 'threshold', max: 1 }))).toBe('queue')
  })
})
