import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MAX_SCENARIO_BYTES, ScenarioError, loadScenarios, parseScenario, readScenarioFile } from './scenarios.ts'

const VALID = {
  name: 'spike',
  tickSeconds: 1,
  durationSeconds: 600,
  traffic: { requestsPerSecond: 100 },
  baseline: { errorRate: 0.005, latencyMedianMs: 100, latencySigma: 0.6 },
  fault: { onsetSeconds: 0, shape: 'step', errorMultiplier: 5 },
  expected: 'rollback',
}

function problem(input: unknown): string {
  try {
    parseScenario(input, 'x.json')
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError)
    return (error as Error).message
  }
  throw new Error('expected a ScenarioError')
}

describe('scenario files', () => {
  it('the public set loads, and covers what the issue lists', async () => {
    const scenarios = await loadScenarios(fileURLToPath(new URL('./scenarios', import.meta.url)))
    const names = scenarios.map((s) => s.name)
    for (const name of ['healthy', 'error-x1-5', 'error-x2', 'error-x5', 'error-x20', 'latency-plus10', 'latency-plus50', 'latency-p99-only', 'drift-30m', 'low-traffic', 'bursty-baseline', 'partial-endpoint', 'data-gaps-healthy']) {
      expect(names).toContain(name)
    }
    expect(scenarios.filter((s) => s.expected === 'promote').every((s) => s.fault === null)).toBe(true)
  })

  it('fills defaults: the canary is the baseline, no fault, no endpoints', () => {
    const s = parseScenario({ ...VALID, fault: undefined, expected: 'promote' })
    expect(s.canary).toEqual(VALID.baseline)
    expect(s.fault).toBeNull()
    expect(s.endpoints).toEqual([])
  })

  it.each([
    ['a missing field', { ...VALID, tickSeconds: undefined }, 'tickSeconds: tickSeconds must be a whole number of seconds'],
    ['an unknown field (a typo)', { ...VALID, durationSecond: 5 }, 'unknown field "durationSecond"'],
    ['a nested unknown field', { ...VALID, baseline: { ...VALID.baseline, p99: 1 } }, 'baseline: unknown field "p99"'],
    ['an error rate above 1', { ...VALID, baseline: { ...VALID.baseline, errorRate: 5 } }, 'baseline.errorRate: errorRate must be between 0 and 1'],
    ['a string for a number', { ...VALID, traffic: { requestsPerSecond: '100' } }, 'traffic.requestsPerSecond: requestsPerSecond must be a number'],
    ['NaN-like traffic', { ...VALID, traffic: { requestsPerSecond: -1 } }, 'requestsPerSecond must be above 0'],
    ['too much traffic', { ...VALID, traffic: { requestsPerSecond: 1e9 } }, 'requestsPerSecond must be at most 5000'],
    ['a fractional tick', { ...VALID, tickSeconds: 1.5 }, 'tickSeconds must be a whole number of seconds'],
    ['a bad name', { ...VALID, name: 'Spike!' }, 'name must be lowercase letters'],
    ['a ramp without rampSeconds', { ...VALID, fault: { onsetSeconds: 0, shape: 'ramp', errorMultiplier: 5 } }, 'fault.rampSeconds: a ramp needs rampSeconds'],
    ['an unknown shape', { ...VALID, fault: { onsetSeconds: 0, shape: 'sine', errorMultiplier: 5 } }, 'fault.shape: shape must be "step" or "ramp"'],
    ['a fault without an effect', { ...VALID, fault: { onsetSeconds: 0, shape: 'step' } }, 'fault: a fault needs an effect'],
    ['an unknown endpoint', { ...VALID, fault: { ...VALID.fault, endpoint: 'pay' } }, 'fault.endpoint: no endpoint named "pay"'],
    ['endpoint shares above 1', { ...VALID, endpoints: [{ name: 'a', share: 0.6 }, { name: 'b', share: 0.6 }] }, 'endpoints: the endpoints\' shares add up to 1.2'],
    ['an onset after the end', { ...VALID, fault: { ...VALID.fault, onsetSeconds: 900 } }, 'fault.onsetSeconds: the onset (900 s) must come before the end (600 s)'],
    ['a rollback without a fault', { ...VALID, fault: null }, 'expected: a scenario expected to roll back needs a fault'],
    ['an unknown outcome', { ...VALID, expected: 'pause' }, 'expected: expected must be "promote" or "rollback"'],
    ['no data at all', { ...VALID, dataGaps: { missingProbability: 1 } }, 'missingProbability must be below 1'],
    ['not an object', [1, 2], 'x.json:'],
    ['null', null, 'x.json:'],
  ])('rejects %s with a clear message', (_, input, message) => {
    expect(problem(input)).toContain(message)
  })

  describe('files and directories', () => {
    let dir: string
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'canary-scenarios-'))
    })
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true })
    })

    it('names the file that is not JSON', async () => {
      await writeFile(join(dir, 'broken.json'), '{ "name": ')
      await expect(loadScenarios(dir)).rejects.toThrow(/broken\.json: not valid JSON/)
    })

    it('refuses an oversized file before parsing it', async () => {
      await writeFile(join(dir, 'big.json'), `{"description": "${'x'.repeat(MAX_SCENARIO_BYTES)}"}`)
      await expect(readScenarioFile(join(dir, 'big.json'))).rejects.toThrow(/a scenario file may have at most/)
    })

    it('refuses two scenarios with one name, an empty directory and a missing one', async () => {
      await expect(loadScenarios(dir)).rejects.toThrow(/no scenario files \(\*\.json\)/)
      await expect(loadScenarios(join(dir, 'nope'))).rejects.toThrow(/no scenario directory/)
      await writeFile(join(dir, 'a.json'), JSON.stringify(VALID))
      await writeFile(join(dir, 'b.json'), JSON.stringify(VALID))
      await expect(loadScenarios(dir)).rejects.toThrow(/b\.json: scenario name "spike" is already used by .*a\.json/)
    })

    it('loads valid files sorted by file name, ignoring other files', async () => {
      await writeFile(join(dir, 'b.json'), JSON.stringify({ ...VALID, name: 'second' }))
      await writeFile(join(dir, 'a.json'), JSON.stringify({ ...VALID, name: 'first' }))
      await writeFile(join(dir, 'notes.txt'), 'not a scenario')
      expect((await loadScenarios(dir)).map((s) => s.name)).toEqual(['first', 'second'])
    })
  })
})
