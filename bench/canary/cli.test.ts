import { describe, expect, it } from 'vitest'
import { DEFAULT_RUNS, RULE_NAMES, UsageError, parseCanaryArgs } from './cli.ts'

function usage(argv: string[]): string {
  try {
    parseCanaryArgs(argv)
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    return (error as Error).message
  }
  throw new Error('expected a UsageError')
}

describe('canary benchmark flags', () => {
  it('defaults: the public scenarios, 50 runs, seed 1, every rule', () => {
    const o = parseCanaryArgs([])
    expect(o.runs).toBe(DEFAULT_RUNS)
    expect(o.seed).toBe(1)
    expect(o.scenarios).toMatch(/bench\/canary\/scenarios$/)
    expect(o.rules).toEqual([...RULE_NAMES])
    expect(o.only).toBeNull()
  })

  it('reads --flag value and --flag=value', () => {
    const o = parseCanaryArgs(['--runs', '500', '--seed=7', '--scenarios', '/tmp/s', '--out=/tmp/o', '--only', 'healthy,error-x5', '--rules=sentra,flagger'])
    expect(o).toMatchObject({ runs: 500, seed: 7, scenarios: '/tmp/s', out: '/tmp/o', only: ['healthy', 'error-x5'], rules: ['sentra', 'flagger'] })
    expect(parseCanaryArgs(['--seed', '4294967295']).seed).toBe(4294967295)
    expect(parseCanaryArgs(['--help']).help).toBe(true)
  })

  it.each([
    [['--runs'], '--runs needs a value'],
    [['--runs', '--seed', '3'], '--runs needs a value'],
    [['--runs', '0'], '--runs must be a whole number from 1 to 100000, got 0'],
    [['--runs', '1e3'], '--runs must be a whole number from 1 to 100000, got "1e3"'],
    [['--runs', '-5'], '--runs must be a whole number'],
    [['--runs', '2.5'], '--runs must be a whole number'],
    [['--runs', '999999999999'], 'got 999999999999'],
    [['--seed', 'abc'], '--seed must be a whole number from 0 to 4294967295, got "abc"'],
    [['--seed', '4294967296'], 'got 4294967296'],
    [['--runs', '5', '--runs', '6'], '--runs is given twice'],
    [['--fast'], 'unknown flag --fast'],
    [['healthy'], 'unexpected argument "healthy"'],
    [['--rules', 'sentra,spinnaker'], 'unknown rule spinnaker; the rules are sentra, flagger, argo, kayenta'],
    [['--only', 'a,,b'], '--only takes a comma-separated list of names'],
    [['--scenarios='], '--scenarios needs a value'],
  ])('refuses %j: %s', (argv, message) => {
    expect(usage(argv)).toContain(message)
  })
})
