import { describe, expect, it } from 'vitest'
import { stringify as stringifyYaml } from 'yaml'
import {
  BUILTIN_SIGNALS,
  DurationError,
  MAX_SPEC_BYTES,
  SpecError,
  assertSpec,
  formatDuration,
  formatPath,
  parseDuration,
  parseListen,
  parseSpec,
  stepKind,
  type AppSpec,
  type SpecIssue,
  type StepSpec,
} from './spec.ts'

/** The example from DESIGN.md, verbatim. */
const DESIGN_EXAMPLE = `
name: checkout
target:
  kind: process                 # process | docker | kubernetes
  listen: 127.0.0.1:8080        # process and docker: Sentra's proxy serves the app here
  command: [node, services/checkout.mjs]          # process
  env: { APP_VERSION: "{{version}}", PORT: "{{port}}" }
  healthPath: /healthz
  # docker:      image: "shop/checkout:{{version}}", containerPort: 8080
  # kubernetes:  namespace: shop, deployment: checkout, service: checkout,
  #              httpRoute: checkout   (optional: Gateway API weights; else replica ratio)
strategy:
  canary:
    steps:
      - setWeight: 5
      - analyze: { min: 20s, max: 5m }   # leave as soon as the evidence says healthy
      - setWeight: 25
      - analyze: { min: 20s }
      - pause: {}                        # wait for a person
      - setWeight: 50
      - analyze: { min: 1m }
  # blueGreen: { analyze: { min: 1m }, scaleDownDelay: 30s }
gates:
  - { name: errors, signal: errorRate, judge: { kind: sequential, alpha: 0.01 } }
  - name: p95
    provider: prometheus
    query: histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket{app="checkout",version="{{version}}"}[{{window}}])))
    judge: { kind: threshold, max: 0.25 }
`

const P95_QUERY =
  'histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket{app="checkout",version="{{version}}"}[{{window}}])))'

// Tests poke at arbitrary places in documents, so they are loosely typed here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>

/** A small valid document (process target, canary, one gate) that bad cases start from. */
function base(): Doc {
  return {
    name: 'checkout',
    target: { kind: 'process', listen: '127.0.0.1:8080', command: ['node', 'server.mjs'] },
    strategy: { canary: { steps: [{ setWeight: 10 }, { analyze: { min: '20s' } }] } },
    gates: [{ name: 'errors', signal: 'errorRate', judge: { kind: 'threshold', max: 0.05 } }],
  }
}

function docker(): Doc['target'] {
  return { kind: 'docker', listen: '127.0.0.1:8080', image: 'shop/checkout:{{version}}', containerPort: 8080 }
}

function kubernetes(): Doc['target'] {
  return { kind: 'kubernetes', namespace: 'shop', deployment: 'checkout', service: 'checkout' }
}

function issuesOf(input: unknown): SpecIssue[] {
  const result = parseSpec(input)
  if (result.ok) throw new Error(`expected issues, got a valid spec: ${JSON.stringify(result.spec)}`)
  return result.issues
}

function specOf(input: unknown): AppSpec {
  const result = parseSpec(input)
  if (!result.ok) throw new Error(`expected a valid spec, got ${JSON.stringify(result.issues, null, 2)}`)
  return result.spec
}

describe('valid specs', () => {
  it('accepts the DESIGN.md example and normalizes it', () => {
    const spec = specOf(DESIGN_EXAMPLE)
    expect(spec).toEqual({
      name: 'checkout',
      target: {
        kind: 'process',
        listen: '127.0.0.1:8080',
        command: ['node', 'services/checkout.mjs'],
        env: { APP_VERSION: '{{version}}', PORT: '{{port}}' },
        healthPath: '/healthz',
      },
      strategy: {
        canary: {
          steps: [
            { setWeight: 5 },
            { analyze: { min: '20s', minMs: 20_000, max: '5m', maxMs: 300_000 } },
            { setWeight: 25 },
            { analyze: { min: '20s', minMs: 20_000 } },
            { pause: {} },
            { setWeight: 50 },
            { analyze: { min: '1m', minMs: 60_000 } },
          ],
        },
      },
      gates: [
        { name: 'errors', signal: 'errorRate', judge: { kind: 'sequential', alpha: 0.01 }, dryRun: false, inconclusiveLimit: 6 },
        {
          name: 'p95',
          provider: 'prometheus',
          query: P95_QUERY,
          judge: { kind: 'threshold', max: 0.25 },
          dryRun: false,
          inconclusiveLimit: 6,
        },
      ],
      interval: '5s',
      intervalMs: 5_000,
      inconclusiveLimit: 6,
    } satisfies AppSpec)
  })

  it('gives the same spec from YAML text, JSON text and an object', () => {
    const fromYaml = specOf(DESIGN_EXAMPLE)
    const object = JSON.parse(JSON.stringify(fromYaml)) as Doc
    expect(specOf(JSON.stringify(object, null, 2))).toEqual(fromYaml)
    expect(specOf(object)).toEqual(fromYaml)
  })

  it('is a fixed point: the normalized spec is itself a valid input', () => {
    const once = specOf(DESIGN_EXAMPLE)
    expect(specOf(once)).toEqual(once)
    expect(specOf(JSON.stringify(once))).toEqual(once)
  })

  it('fills defaults', () => {
    const doc = base()
    doc.strategy = { canary: { steps: [{ setWeight: 50 }, { analyze: {} }, { pause: { duration: '1m30s' } }] } }
    doc.gates = [{ name: 'seq', signal: 'latencyP95', judge: { kind: 'sequential' } }]
    doc.inconclusiveLimit = 3
    const spec = specOf(doc)
    expect(spec.target).toEqual({ kind: 'process', listen: '127.0.0.1:8080', command: ['node', 'server.mjs'], env: {}, healthPath: '/healthz' })
    expect(spec.strategy.canary?.steps).toEqual([{ setWeight: 50 }, { analyze: { min: '0s', minMs: 0 } }, { pause: { duration: '1m30s', durationMs: 90_000 } }])
    expect(spec.gates[0]).toEqual({ name: 'seq', signal: 'latencyP95', judge: { kind: 'sequential', alpha: 0.01 }, dryRun: false, inconclusiveLimit: 3 })
    expect(spec.interval).toBe('5s')
    expect(spec.intervalMs).toBe(5000)
  })

  it('accepts a docker target with a blue/green strategy', () => {
    const doc = base()
    doc.target = { ...docker(), env: { VERSION: '{{version}}', EMPTY: '' }, healthPath: '/ready' }
    doc.strategy = { blueGreen: { analyze: { min: '1m' }, scaleDownDelay: '30s' } }
    const spec = specOf(doc)
    expect(spec.target).toEqual({
      kind: 'docker',
      listen: '127.0.0.1:8080',
      image: 'shop/checkout:{{version}}',
      containerPort: 8080,
      env: { VERSION: '{{version}}', EMPTY: '' },
      healthPath: '/ready',
    })
    expect(spec.strategy).toEqual({
      blueGreen: { analyze: { min: '1m', minMs: 60_000 }, scaleDownDelay: '30s', scaleDownDelayMs: 30_000, autoPromote: true },
    })
  })

  it('accepts a blue/green strategy with no analysis and defaults', () => {
    const doc = base()
    doc.strategy = { blueGreen: {} }
    doc.gates = []
    expect(specOf(doc).strategy).toEqual({ blueGreen: { scaleDownDelay: '30s', scaleDownDelayMs: 30_000, autoPromote: true } })
  })

  it('accepts a docker image pinned by tag or digest, and a registry with a port', () => {
    for (const image of ['shop/checkout:1.2.3', 'registry.local:5000/shop/checkout:{{version}}', 'shop/checkout@sha256:abcd']) {
      const doc = base()
      doc.target = { ...docker(), image }
      expect(specOf(doc).target).toMatchObject({ image })
    }
  })

  it('accepts a kubernetes target with a canary strategy and an HTTPRoute', () => {
    const doc = base()
    doc.target = { ...kubernetes(), httpRoute: 'checkout-route' }
    const spec = specOf(doc)
    expect(spec.target).toEqual({ kind: 'kubernetes', namespace: 'shop', deployment: 'checkout', service: 'checkout', httpRoute: 'checkout-route' })
    expect(stepKind(spec.strategy.canary!.steps[0]!)).toBe('setWeight')
  })

  it('accepts every built-in signal and every provider', () => {
    const doc = base()
    doc.gates = [
      ...Object.keys(BUILTIN_SIGNALS).map((signal) => ({ name: signal.toLowerCase(), signal, judge: { kind: 'relative', maxRatio: 1.5 } })),
      { name: 'prom', provider: 'prometheus', query: 'sum(rate(x{version="{{version}}"}[{{window}}]))', judge: { kind: 'threshold', min: 0 } },
      {
        name: 'logs',
        provider: 'loki',
        query: 'sum(rate({app="{{application}}", version="{{version}}"} | json | line_format "{{.msg}}" {{if .x}}a{{end}} [{{window}}]))',
        judge: { kind: 'threshold', max: 10 },
      },
      { name: 'traces', provider: 'tempo', query: '{ resource.service.version = "{{version}}" && status = error }', judge: { kind: 'relative', maxIncrease: 0.01 } },
    ]
    expect(specOf(doc).gates).toHaveLength(Object.keys(BUILTIN_SIGNALS).length + 3)
  })

  it('turns percentages for fraction signals into numbers', () => {
    const doc = base()
    doc.gates = [
      { name: 'a', signal: 'errorRate', judge: { kind: 'threshold', max: '2%' } },
      { name: 'b', signal: 'logErrorRatio', judge: { kind: 'relative', maxIncrease: '0.5 %' } },
      { name: 'c', signal: 'traceErrorRate', judge: { kind: 'threshold', min: 0, max: '100%' } },
    ]
    const judges = specOf(doc).gates.map((gate) => gate.judge)
    expect(judges).toEqual([
      { kind: 'threshold', max: 0.02 },
      { kind: 'relative', maxIncrease: 0.005 },
      { kind: 'threshold', min: 0, max: 1 },
    ])
  })

  it('accepts the edges of every range', () => {
    const doc = base()
    doc.strategy = { canary: { steps: [{ setWeight: 0 }, { setWeight: 100 }, { analyze: { min: '0s', max: '24h' } }, { pause: { duration: '24h' } }] } }
    doc.interval = '1s'
    doc.inconclusiveLimit = 1000
    doc.gates = [
      { name: 'a', signal: 'errorRate', judge: { kind: 'threshold', min: 0, max: 1 } },
      { name: 'b', signal: 'latencyP99', judge: { kind: 'threshold', max: 3600 }, dryRun: true, inconclusiveLimit: 1 },
      { name: 'c', signal: 'requestRate', judge: { kind: 'threshold', min: 1e9 } },
      { name: 'd', signal: 'errorRate', judge: { kind: 'relative', maxIncrease: 1, maxRatio: 1 } },
    ]
    const spec = specOf(doc)
    expect(spec.intervalMs).toBe(1000)
    expect(spec.gates[1]).toMatchObject({ dryRun: true, inconclusiveLimit: 1 })
    expect(specOf({ ...doc, interval: '5m' }).intervalMs).toBe(300_000)
  })

  it('accepts IPv6, hostnames and 0.0.0.0 as listen hosts', () => {
    for (const listen of ['[::1]:8080', 'localhost:80', 'app.internal:65535', '0.0.0.0:3000']) {
      const doc = base()
      doc.target.listen = listen
      expect(specOf(doc).target).toMatchObject({ listen })
    }
    expect(parseListen('[::1]:8080')).toEqual({ host: '::1', port: 8080 })
    expect(parseListen('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 })
    expect(parseListen('nope')).toBeUndefined()
  })

  it('accepts templates in command and cwd, and a byte-order mark before YAML', () => {
    const doc = base()
    doc.target.command = ['node', 'server.mjs', '--port', '{{port}}']
    doc.target.cwd = 'releases/{{version}}'
    expect(specOf(doc).target).toMatchObject({ cwd: 'releases/{{version}}' })
    expect(specOf(`\uFEFF${DESIGN_EXAMPLE}`).name).toBe('checkout')
  })
})

type Mutation = (doc: Doc) => void
interface BadCase {
  name: string
  mutate: Mutation
  path: string
  message: string
}

const bad: BadCase[] = [
  // name
  { name: 'missing name', mutate: (d) => delete d.name, path: 'name', message: 'is required' },
  { name: 'uppercase name', mutate: (d) => (d.name = 'Checkout'), path: 'name', message: 'must be lowercase (try "checkout")' },
  { name: 'name starting with a digit', mutate: (d) => (d.name = '1checkout'), path: 'name', message: 'must start with a lowercase letter' },
  { name: 'name ending with a dash', mutate: (d) => (d.name = 'checkout-'), path: 'name', message: 'must end with a lowercase letter or digit' },
  { name: 'name too long', mutate: (d) => (d.name = 'a'.repeat(64)), path: 'name', message: 'at most 63 characters' },
  { name: 'name with underscore', mutate: (d) => (d.name = 'check_out'), path: 'name', message: `may only contain lowercase letters, digits and '-' (found "_")` },
  { name: 'name as a number', mutate: (d) => (d.name = 42), path: 'name', message: 'must be a string (got the number 42' },
  // target
  { name: 'missing target', mutate: (d) => delete d.target, path: 'target', message: 'is required' },
  { name: 'missing target kind', mutate: (d) => delete d.target.kind, path: 'target.kind', message: 'is required; one of process, docker, kubernetes' },
  { name: 'misspelled target kind', mutate: (d) => (d.target.kind = 'proces'), path: 'target.kind', message: 'did you mean "process"?' },
  { name: 'listen without host', mutate: (d) => (d.target.listen = '8080'), path: 'target.listen', message: 'must include a host (try "127.0.0.1:8080")' },
  { name: 'listen port 0', mutate: (d) => (d.target.listen = '127.0.0.1:0'), path: 'target.listen', message: 'invalid port "0"; it must be between 1 and 65535' },
  { name: 'listen port too big', mutate: (d) => (d.target.listen = 'localhost:70000'), path: 'target.listen', message: 'between 1 and 65535' },
  { name: 'listen bad host', mutate: (d) => (d.target.listen = 'bad_host!:80'), path: 'target.listen', message: 'invalid host "bad_host!"' },
  { name: 'listen bad IPv4', mutate: (d) => (d.target.listen = '300.1.1.1:80'), path: 'target.listen', message: 'invalid host "300.1.1.1"' },
  { name: 'listen IPv6 without brackets', mutate: (d) => (d.target.listen = '::1:8080'), path: 'target.listen', message: 'in brackets' },
  { name: 'missing command', mutate: (d) => delete d.target.command, path: 'target.command', message: 'is required' },
  { name: 'empty command', mutate: (d) => (d.target.command = []), path: 'target.command', message: 'must not be empty' },
  { name: 'command as a string', mutate: (d) => (d.target.command = 'node server.mjs'), path: 'target.command', message: 'must be a list of the program and its arguments, e.g. [node, server.mjs]' },
  { name: 'command item not a string', mutate: (d) => (d.target.command = ['node', 5]), path: 'target.command[1]', message: 'must be a string' },
  { name: 'unknown template in command', mutate: (d) => (d.target.command = ['node', '{{host}}']), path: 'target.command[1]', message: 'unknown template "{{host}}"' },
  { name: 'misspelled env template', mutate: (d) => (d.target.env = { APP_VERSION: '{{verison}}' }), path: 'target.env.APP_VERSION', message: 'did you mean {{version}}?' },
  { name: 'unknown env template', mutate: (d) => (d.target.env = { X: 'a-{{secret}}' }), path: 'target.env.X', message: 'unknown template "{{secret}}"; available: {{version}}, {{port}}' },
  { name: 'spaced env template', mutate: (d) => (d.target.env = { X: '{{ version }}' }), path: 'target.env.X', message: 'did you mean {{version}}?' },
  { name: 'unclosed env template', mutate: (d) => (d.target.env = { X: '{{version' }), path: 'target.env.X', message: 'unclosed "{{"' },
  { name: 'env value a number', mutate: (d) => (d.target.env = { PORT: 8080 }), path: 'target.env.PORT', message: 'quote it in YAML: "8080"' },
  { name: 'bad env name', mutate: (d) => (d.target.env = { '1BAD': 'x' }), path: 'target.env["1BAD"]', message: 'not a valid environment variable name' },
  { name: 'env as a list', mutate: (d) => (d.target.env = ['A=1']), path: 'target.env', message: 'must be a mapping of NAME: value' },
  { name: 'healthPath without slash', mutate: (d) => (d.target.healthPath = 'healthz'), path: 'target.healthPath', message: 'must start with "/" (try "/healthz")' },
  { name: 'docker field on a process target', mutate: (d) => (d.target.image = 'x:1'), path: 'target.image', message: 'image is used with kind: docker' },
  { name: 'misspelled process field', mutate: (d) => (d.target.healthpath = '/h'), path: 'target.healthpath', message: 'did you mean "healthPath"?' },
  { name: 'docker image without tag', mutate: (d) => (d.target = { ...docker(), image: 'shop/checkout' }), path: 'target.image', message: 'must contain {{version}} or a tag (try "shop/checkout:{{version}}")' },
  { name: 'docker registry port is not a tag', mutate: (d) => (d.target = { ...docker(), image: 'localhost:5000/checkout' }), path: 'target.image', message: 'must contain {{version}} or a tag' },
  { name: 'docker containerPort 0', mutate: (d) => (d.target = { ...docker(), containerPort: 0 }), path: 'target.containerPort', message: 'must be a whole number between 1 and 65535' },
  { name: 'docker missing containerPort', mutate: (d) => (d.target = { ...docker(), containerPort: undefined }), path: 'target.containerPort', message: 'is required' },
  { name: 'docker with command', mutate: (d) => (d.target = { ...docker(), command: ['x'] }), path: 'target.command', message: 'is used with kind: process' },
  { name: 'kubernetes uppercase namespace', mutate: (d) => (d.target = { ...kubernetes(), namespace: 'Shop' }), path: 'target.namespace', message: 'must be lowercase (try "shop")' },
  { name: 'kubernetes service starting with a digit', mutate: (d) => (d.target = { ...kubernetes(), service: '9svc' }), path: 'target.service', message: 'must start with a lowercase letter' },
  { name: 'kubernetes deployment with empty part', mutate: (d) => (d.target = { ...kubernetes(), deployment: 'a..b' }), path: 'target.deployment', message: "empty parts between '.'" },
  { name: 'kubernetes httpRoute too long', mutate: (d) => (d.target = { ...kubernetes(), httpRoute: 'a'.repeat(254) }), path: 'target.httpRoute', message: 'at most 253 characters' },
  { name: 'kubernetes with listen', mutate: (d) => (d.target = { ...kubernetes(), listen: '127.0.0.1:80' }), path: 'target.listen', message: 'kind: process or docker' },
  { name: 'kubernetes missing service', mutate: (d) => (d.target = { ...kubernetes(), service: undefined }), path: 'target.service', message: 'is required' },
  // strategy
  { name: 'missing strategy', mutate: (d) => delete d.strategy, path: 'strategy', message: 'is required' },
  { name: 'empty strategy', mutate: (d) => (d.strategy = {}), path: 'strategy', message: 'must have exactly one of canary or blueGreen' },
  { name: 'both strategies', mutate: (d) => (d.strategy.blueGreen = {}), path: 'strategy', message: 'must have exactly one of canary or blueGreen, not both' },
  { name: 'misspelled strategy', mutate: (d) => (d.strategy = { blue_green: {} }), path: 'strategy.blue_green', message: 'did you mean "blueGreen"?' },
  { name: 'no steps', mutate: (d) => (d.strategy.canary.steps = []), path: 'strategy.canary.steps', message: 'must have at least one step' },
  { name: 'too many steps', mutate: (d) => (d.strategy.canary.steps = Array.from({ length: 101 }, () => ({ setWeight: 1 }))), path: 'strategy.canary.steps', message: 'at most 100 steps' },
  { name: 'weight over 100', mutate: (d) => (d.strategy.canary.steps[0] = { setWeight: 101 }), path: 'strategy.canary.steps[0].setWeight', message: 'must be between 0 and 100' },
  { name: 'negative weight', mutate: (d) => (d.strategy.canary.steps[0] = { setWeight: -5 }), path: 'strategy.canary.steps[0].setWeight', message: 'must be between 0 and 100' },
  { name: 'fractional weight', mutate: (d) => (d.strategy.canary.steps[0] = { setWeight: 12.5 }), path: 'strategy.canary.steps[0].setWeight', message: 'must be a whole number between 0 and 100' },
  { name: 'weight as text', mutate: (d) => (d.strategy.canary.steps[0] = { setWeight: '50' }), path: 'strategy.canary.steps[0].setWeight', message: 'must be a number (got the text "50")' },
  { name: 'misspelled setWeight', mutate: (d) => (d.strategy.canary.steps[0] = { setweight: 5 }), path: 'strategy.canary.steps[0].setweight', message: 'unknown field "setweight"; did you mean "setWeight"?' },
  { name: 'empty step', mutate: (d) => (d.strategy.canary.steps[0] = {}), path: 'strategy.canary.steps[0]', message: 'is empty; a step is one of setWeight, analyze or pause' },
  { name: 'two kinds in one step', mutate: (d) => (d.strategy.canary.steps[0] = { setWeight: 5, pause: {} }), path: 'strategy.canary.steps[0]', message: 'must have only one of setWeight, analyze or pause (found setWeight and pause)' },
  { name: 'step as a string', mutate: (d) => (d.strategy.canary.steps[0] = 'pause'), path: 'strategy.canary.steps[0]', message: 'must be a mapping (got the text "pause"); a step is one of' },
  { name: 'analyze max below min', mutate: (d) => (d.strategy.canary.steps[1] = { analyze: { min: '5m', max: '1m' } }), path: 'strategy.canary.steps[1].analyze.max', message: 'must be at least min (5m)' },
  { name: 'analyze min without unit', mutate: (d) => (d.strategy.canary.steps[1] = { analyze: { min: 20 } }), path: 'strategy.canary.steps[1].analyze.min', message: 'must be a duration with a unit, such as "20s"' },
  { name: 'analyze min with a space', mutate: (d) => (d.strategy.canary.steps[1] = { analyze: { min: '20 s' } }), path: 'strategy.canary.steps[1].analyze.min', message: 'must not contain spaces' },
  { name: 'analyze max below the interval', mutate: (d) => (d.strategy.canary.steps[1] = { analyze: { max: '2s' } }), path: 'strategy.canary.steps[1].analyze.max', message: 'must be at least the interval (5s)' },
  { name: 'analyze max of 0s', mutate: (d) => (d.strategy.canary.steps[1] = { analyze: { max: '0s' } }), path: 'strategy.canary.steps[1].analyze.max', message: 'must be longer than 0s' },
  { name: 'analyze null', mutate: (d) => (d.strategy.canary.steps[1] = { analyze: null }), path: 'strategy.canary.steps[1].analyze', message: 'write "analyze: {}" for the defaults' },
  { name: 'analyze without gates', mutate: (d) => delete d.gates, path: 'strategy.canary.steps[1].analyze', message: 'has no gates to judge' },
  { name: 'derived minMs without min', mutate: (d) => (d.strategy.canary.steps[1] = { analyze: { minMs: 20000 } }), path: 'strategy.canary.steps[1].analyze.minMs', message: 'is derived from min' },
  { name: 'pause of 0s', mutate: (d) => d.strategy.canary.steps.push({ pause: { duration: '0s' } }), path: 'strategy.canary.steps[2].pause.duration', message: 'must be longer than 0s' },
  { name: 'pause over 24h', mutate: (d) => d.strategy.canary.steps.push({ pause: { duration: '48h' } }), path: 'strategy.canary.steps[2].pause.duration', message: 'is too long (got "48h"); the limit is 24h' },
  { name: 'pause with unknown field', mutate: (d) => d.strategy.canary.steps.push({ pause: { untill: '1m' } }), path: 'strategy.canary.steps[2].pause.untill', message: 'unknown field "untill"; expected duration' },
  { name: 'blueGreen autoPromote not boolean', mutate: (d) => (d.strategy = { blueGreen: { autoPromote: 'yes' } }), path: 'strategy.blueGreen.autoPromote', message: 'must be true or false (got the text "yes")' },
  { name: 'blueGreen negative delay', mutate: (d) => (d.strategy = { blueGreen: { scaleDownDelay: '-5s' } }), path: 'strategy.blueGreen.scaleDownDelay', message: 'must not be negative' },
  { name: 'blueGreen analyze without gates', mutate: (d) => { d.strategy = { blueGreen: { analyze: {} } }; d.gates = [] }, path: 'strategy.blueGreen.analyze', message: 'has no gates to judge' },
  // application settings
  { name: 'interval too short', mutate: (d) => (d.interval = '500ms'), path: 'interval', message: 'must be between 1s and 5m (got "500ms")' },
  { name: 'interval too long', mutate: (d) => (d.interval = '10m'), path: 'interval', message: 'must be between 1s and 5m' },
  { name: 'interval with unknown unit', mutate: (d) => (d.interval = '5d'), path: 'interval', message: 'unknown unit "d"' },
  { name: 'inconclusiveLimit 0', mutate: (d) => (d.inconclusiveLimit = 0), path: 'inconclusiveLimit', message: 'must be a whole number between 1 and 1000' },
  { name: 'intervalMs not matching interval', mutate: (d) => { d.interval = '5s'; d.intervalMs = 1234 }, path: 'intervalMs', message: 'does not match interval ("5s" is 5000 ms)' },
  { name: 'misspelled top-level field', mutate: (d) => (d.gate = []), path: 'gate', message: 'did you mean "gates"?' },
  { name: 'unknown top-level field', mutate: (d) => (d.apiVersion = 'v1'), path: 'apiVersion', message: 'unknown field "apiVersion"; expected one of name, target, strategy, gates, interval, inconclusiveLimit' },
  // gates
  { name: 'gates not a list', mutate: (d) => (d.gates = { errors: {} }), path: 'gates', message: 'must be a list' },
  { name: 'too many gates', mutate: (d) => (d.gates = Array.from({ length: 51 }, (_, i) => ({ name: `g${i}`, signal: 'errorRate', judge: { kind: 'sequential' } }))), path: 'gates', message: 'at most 50 gates' },
  { name: 'duplicate gate name', mutate: (d) => d.gates.push(d.gates[0], d.gates[0], { ...d.gates[0] }), path: 'gates[1].name', message: 'duplicate gate name "errors" (also used by gates[0])' },
  { name: 'uppercase gate name', mutate: (d) => (d.gates[0].name = 'Errors'), path: 'gates[0].name', message: 'must be lowercase (try "errors")' },
  { name: 'gate without signal or provider', mutate: (d) => delete d.gates[0].signal, path: 'gates[0]', message: 'needs a signal (one of requestRate' },
  { name: 'gate with signal and provider', mutate: (d) => (d.gates[0].provider = 'prometheus'), path: 'gates[0]', message: 'must have either signal or provider, not both' },
  { name: 'misspelled signal', mutate: (d) => (d.gates[0].signal = 'errorrate'), path: 'gates[0].signal', message: 'did you mean "errorRate"?' },
  { name: 'unknown signal', mutate: (d) => (d.gates[0].signal = 'cpu'), path: 'gates[0].signal', message: 'must be one of the built-in signals: requestRate, errorRate' },
  { name: 'unknown provider', mutate: (d) => (d.gates[0] = { name: 'x', provider: 'datadog', query: 'q{{version}}', judge: { kind: 'sequential' } }), path: 'gates[0].provider', message: 'must be one of: prometheus, loki, tempo' },
  { name: 'provider without query', mutate: (d) => (d.gates[0] = { name: 'x', provider: 'prometheus', judge: { kind: 'sequential' } }), path: 'gates[0].query', message: 'is required with provider' },
  { name: 'signal with query', mutate: (d) => (d.gates[0].query = 'up'), path: 'gates[0].query', message: 'is only used with provider' },
  { name: 'query without version', mutate: (d) => (d.gates[0] = { name: 'x', provider: 'prometheus', query: 'up', judge: { kind: 'sequential' } }), path: 'gates[0].query', message: 'must contain {{version}}' },
  { name: 'empty query', mutate: (d) => (d.gates[0] = { name: 'x', provider: 'loki', query: '  ', judge: { kind: 'sequential' } }), path: 'gates[0].query', message: 'must not be empty' },
  { name: 'query over 8 KiB', mutate: (d) => (d.gates[0] = { name: 'x', provider: 'prometheus', query: `{{version}}${'x'.repeat(8192)}`, judge: { kind: 'sequential' } }), path: 'gates[0].query', message: 'the limit is 8 KiB' },
  { name: 'misspelled query template', mutate: (d) => (d.gates[0] = { name: 'x', provider: 'prometheus', query: 'up{v="{{verison}}"}', judge: { kind: 'sequential' } }), path: 'gates[0].query', message: 'did you mean {{version}}?' },
  { name: 'missing judge', mutate: (d) => delete d.gates[0].judge, path: 'gates[0].judge', message: 'is required' },
  { name: 'misspelled judge kind', mutate: (d) => (d.gates[0].judge.kind = 'thresold'), path: 'gates[0].judge.kind', message: 'did you mean "threshold"?' },
  { name: 'missing judge kind', mutate: (d) => delete d.gates[0].judge.kind, path: 'gates[0].judge.kind', message: 'is required; one of threshold, relative, sequential' },
  { name: 'threshold without bounds', mutate: (d) => (d.gates[0].judge = { kind: 'threshold' }), path: 'gates[0].judge', message: 'needs min, max or both' },
  { name: 'error rate over 1', mutate: (d) => (d.gates[0].judge.max = 7), path: 'gates[0].judge.max', message: 'must be between 0 and 1 (errorRate is a fraction: 0.02 is 2 %)' },
  { name: 'latency over an hour', mutate: (d) => (d.gates[0] = { name: 'p95', signal: 'latencyP95', judge: { kind: 'threshold', max: 5000 } }), path: 'gates[0].judge.max', message: 'must be between 0 and 3600 (latencyP95 is in seconds: 0.25 is 250 ms)' },
  { name: 'negative request rate', mutate: (d) => (d.gates[0] = { name: 'rps', signal: 'requestRate', judge: { kind: 'threshold', min: -1 } }), path: 'gates[0].judge.min', message: 'must be at least 0 (requestRate is in requests per second)' },
  { name: 'threshold min above max', mutate: (d) => (d.gates[0].judge = { kind: 'threshold', min: 0.5, max: 0.1 }), path: 'gates[0].judge.max', message: 'must be at least min (0.5)' },
  { name: 'percentage on a seconds signal', mutate: (d) => (d.gates[0] = { name: 'p95', signal: 'latencyP95', judge: { kind: 'threshold', max: '5%' } }), path: 'gates[0].judge.max', message: 'may only be a percentage for the fraction signals' },
  { name: 'percentage over 100', mutate: (d) => (d.gates[0].judge.max = '150%'), path: 'gates[0].judge.max', message: 'must be between 0 and 1' },
  { name: 'threshold as text', mutate: (d) => (d.gates[0].judge.max = 'low'), path: 'gates[0].judge.max', message: 'must be a number (or, for fractions, a percentage such as "2%")' },
  { name: 'threshold as boolean', mutate: (d) => (d.gates[0].judge.max = true), path: 'gates[0].judge.max', message: 'must be a number (got true)' },
  { name: 'relative ratio below 1', mutate: (d) => (d.gates[0].judge = { kind: 'relative', maxRatio: 0.5 }), path: 'gates[0].judge.maxRatio', message: 'must be at least 1' },
  { name: 'relative without bounds', mutate: (d) => (d.gates[0].judge = { kind: 'relative' }), path: 'gates[0].judge', message: 'needs maxIncrease, maxRatio or both' },
  { name: 'relative increase over the range', mutate: (d) => (d.gates[0].judge = { kind: 'relative', maxIncrease: 2 }), path: 'gates[0].judge.maxIncrease', message: 'must be between 0 and 1 (errorRate is a fraction' },
  { name: 'relative negative increase', mutate: (d) => (d.gates[0].judge = { kind: 'relative', maxIncrease: -0.1 }), path: 'gates[0].judge.maxIncrease', message: 'must be at least 0' },
  { name: 'sequential alpha 0', mutate: (d) => (d.gates[0].judge = { kind: 'sequential', alpha: 0 }), path: 'gates[0].judge.alpha', message: 'must be greater than 0 and at most 0.2' },
  { name: 'sequential alpha too big', mutate: (d) => (d.gates[0].judge = { kind: 'sequential', alpha: 0.5 }), path: 'gates[0].judge.alpha', message: 'must be greater than 0 and at most 0.2' },
  { name: 'alpha on a threshold judge', mutate: (d) => (d.gates[0].judge.alpha = 0.01), path: 'gates[0].judge.alpha', message: 'alpha is used with kind: sequential' },
  { name: 'dryRun as text', mutate: (d) => (d.gates[0].dryRun = 'true'), path: 'gates[0].dryRun', message: 'must be true or false' },
  { name: 'fractional gate inconclusiveLimit', mutate: (d) => (d.gates[0].inconclusiveLimit = 1.5), path: 'gates[0].inconclusiveLimit', message: 'must be a whole number between 1 and 1000' },
  { name: 'misspelled gate field', mutate: (d) => (d.gates[0].dryrun = true), path: 'gates[0].dryrun', message: 'did you mean "dryRun"?' },
]

describe('bad specs', () => {
  it('has a good number of cases', () => {
    expect(bad.length).toBeGreaterThanOrEqual(40)
  })

  it.each(bad)('$name -> $path', ({ mutate, path, message }) => {
    const doc = base()
    mutate(doc)
    const issues = issuesOf(doc)
    const match = issues.find((issue) => issue.path === path)
    expect(match, `no issue at "${path}" in ${JSON.stringify(issues, null, 2)}`).toBeDefined()
    expect(match?.message).toContain(message)
  })

  it.each(bad)('$name, as YAML and as JSON text, gives the same issues', ({ mutate }) => {
    const doc = base()
    mutate(doc)
    const expected = issuesOf(doc)
    expect(issuesOf(stringifyYaml(doc))).toEqual(expected)
    expect(issuesOf(JSON.stringify(doc, null, 2))).toEqual(expected)
  })

  it('reports every problem at once, one issue per field', () => {
    const doc = base()
    doc.name = 'Bad_Name'
    doc.strategy.canary.steps = [{ setWeight: 101 }, { setweight: 1 }, { analyze: { min: 'x' } }]
    doc.gates.push({ name: 'errors', signal: 'nope', judge: { kind: 'threshold', max: 7 } })
    doc.extra = true
    const paths = issuesOf(doc).map((issue) => issue.path)
    expect(paths).toEqual(
      expect.arrayContaining([
        'name',
        'strategy.canary.steps[0].setWeight',
        'strategy.canary.steps[1].setweight',
        'strategy.canary.steps[2].analyze.min',
        'gates[1].signal',
        'gates[1].name',
        'extra',
      ]),
    )
    expect(new Set(paths).size).toBe(paths.length)
  })

  it('does not add "step is empty" on top of a misspelled step kind', () => {
    const doc = base()
    doc.strategy.canary.steps = [{ Pause: {} }]
    expect(issuesOf(doc)).toEqual([{ path: 'strategy.canary.steps[0].Pause', message: 'unknown field "Pause"; did you mean "pause"?' }])
  })

  it('caps the number of issues', () => {
    const doc = base()
    for (let i = 0; i < 200; i++) doc[`junk${i}`] = i
    const issues = issuesOf(doc)
    expect(issues.length).toBeLessThanOrEqual(50)
    expect(issues.at(-1)).toMatchObject({ path: '', message: expect.stringContaining('more problems') })
  })
})

describe('YAML and JSON text', () => {
  it('reports YAML syntax errors with line and column at the root', () => {
    expect(issuesOf('name: checkout\ntarget: [1, 2\nstrategy: {}')).toEqual([
      { path: '', message: expect.stringMatching(/^is not valid YAML: .* at line \d+, column \d+$/) },
    ])
    expect(issuesOf('name: a\n\tkind: x')).toEqual([{ path: '', message: expect.stringContaining('at line 2, column 1') }])
  })

  it('reports JSON syntax errors with line and column at the root', () => {
    expect(issuesOf('{\n  "name": "a",\n  "target": }')).toEqual([
      { path: '', message: expect.stringMatching(/^is not valid JSON: .* at line 3, column 13$/) },
    ])
    expect(issuesOf('{"name": "a",}')).toEqual([{ path: '', message: expect.stringContaining('at line 1, column 14') }])
    expect(issuesOf('{"name": "a"')).toEqual([{ path: '', message: expect.stringContaining('is not valid JSON') }])
  })

  it('rejects duplicate YAML keys', () => {
    expect(issuesOf('name: a\nname: b')).toEqual([{ path: '', message: expect.stringContaining('Map keys must be unique at line 2, column 1') }])
  })

  it('rejects a document that is not a mapping, or is empty', () => {
    expect(issuesOf('- a\n- b')).toEqual([{ path: '', message: expect.stringContaining('must be a mapping') }])
    expect(issuesOf('[1, 2]')).toEqual([{ path: '', message: expect.stringContaining('not a list') }])
    expect(issuesOf('just text')).toEqual([{ path: '', message: expect.stringContaining('not the text "just text"') }])
    expect(issuesOf('42')).toEqual([{ path: '', message: expect.stringContaining('must be a mapping') }])
    expect(issuesOf('')).toEqual([{ path: '', message: expect.stringContaining('is empty') }])
    expect(issuesOf('   \n# only a comment\n')).toEqual([{ path: '', message: expect.stringContaining('is empty') }])
    expect(issuesOf(null)).toEqual([{ path: '', message: expect.stringContaining('is empty') }])
    expect(issuesOf(['a'])).toEqual([{ path: '', message: expect.stringContaining('must be a mapping') }])
    expect(issuesOf(7)).toEqual([{ path: '', message: expect.stringContaining('must be a mapping') }])
  })

  it('rejects several YAML documents in one text', () => {
    expect(issuesOf(`${DESIGN_EXAMPLE}\n---\nname: other\n`)).toEqual([{ path: '', message: expect.stringContaining('more than one document') }])
  })

  it('rejects YAML tags that are not plain data', () => {
    expect(issuesOf('name: !custom x')).toEqual([{ path: '', message: expect.stringContaining('Unresolved tag') }])
    expect(issuesOf('name: !!binary aGVsbG8=')).toEqual([{ path: 'name', message: 'must be plain data (got a Buffer)' }])
  })

  it('reads YAML 1.2: yes is a string, not true', () => {
    const yaml = `name: a\ntarget: { kind: kubernetes, namespace: shop, deployment: a, service: a }\nstrategy:\n  blueGreen: { autoPromote: yes }\n`
    expect(issuesOf(yaml)).toEqual([{ path: 'strategy.blueGreen.autoPromote', message: 'must be true or false (got the text "yes")' }])
  })

  it('names the field path of a bad value in YAML text', () => {
    const yaml = DESIGN_EXAMPLE.replace('- setWeight: 25', '- setWeight: 250')
    expect(issuesOf(yaml)).toEqual([{ path: 'strategy.canary.steps[2].setWeight', message: 'must be between 0 and 100' }])
  })
})

describe('hostile input', () => {
  it('rejects text over 256 KiB before parsing', () => {
    const big = `name: a\n# ${'x'.repeat(MAX_SPEC_BYTES)}\n`
    const started = performance.now()
    expect(issuesOf(big)).toEqual([{ path: '', message: expect.stringContaining('is too large') }])
    expect(issuesOf(big)[0]?.message).toContain('the limit is 256 KiB')
    expect(performance.now() - started).toBeLessThan(500)
    // Counted in UTF-8 bytes, not characters.
    expect(issuesOf(`name: a\n# ${'é'.repeat(MAX_SPEC_BYTES / 2 + 10)}`)[0]?.message).toContain('is too large')
  })

  it('rejects a billion-laughs YAML document quickly', () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i)
      const cur = String.fromCharCode(97 + i)
      lines.push(`${cur}: &${cur} [${Array.from({ length: 9 }, () => `*${prev}`).join(',')}]`)
    }
    const started = performance.now()
    expect(issuesOf(lines.join('\n'))).toEqual([{ path: '', message: expect.stringContaining('too many YAML aliases') }])
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it('allows a few YAML anchors and aliases', () => {
    const yaml = `
name: checkout
target: { kind: kubernetes, namespace: shop, deployment: checkout, service: checkout }
strategy: { canary: { steps: [ { setWeight: 50 }, { analyze: {} } ] } }
gates:
  - { name: a, signal: errorRate, judge: &judge { kind: relative, maxRatio: 2 } }
  - { name: b, signal: traceErrorRate, judge: *judge }
`
    expect(specOf(yaml).gates.map((gate) => gate.judge)).toEqual([
      { kind: 'relative', maxRatio: 2 },
      { kind: 'relative', maxRatio: 2 },
    ])
  })

  it('rejects deeply nested input quickly', () => {
    const started = performance.now()
    expect(issuesOf(`name: ${'['.repeat(100_000)}${']'.repeat(100_000)}`)[0]?.message).toContain('nested too deeply')
    let deep: Doc = {}
    const root = deep
    for (let i = 0; i < 10_000; i++) deep = deep.a = {}
    expect(issuesOf(root)[0]?.message).toContain('nested too deeply')
    expect(issuesOf(`${'{"a":'.repeat(10_000)}{}${'}'.repeat(10_000)}`)[0]?.message).toContain('nested too deeply')
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it.each([
    ['YAML __proto__', '__proto__: { polluted: true }\nname: a', '__proto__'],
    ['JSON __proto__', '{"name": "a", "__proto__": {"polluted": true}}', '__proto__'],
    ['nested JSON __proto__', '{"target": {"env": {"__proto__": {"x": "y"}}}}', 'target.env.__proto__'],
    ['YAML constructor', 'name: a\nconstructor: { prototype: {} }', 'constructor'],
    ['gate prototype', '{"gates": [{"prototype": 1}]}', 'gates[0].prototype'],
  ])('rejects prototype keys: %s', (_, text, path) => {
    const issues = issuesOf(text)
    expect(issues).toContainEqual({ path, message: 'is a reserved name and is not allowed' })
    expect(({} as Doc).polluted).toBeUndefined()
  })

  it('rejects an own __proto__ property on an object', () => {
    const doc = base()
    Object.defineProperty(doc.target, '__proto__', { value: { polluted: true }, enumerable: true })
    expect(issuesOf(doc)).toContainEqual({ path: 'target.__proto__', message: 'is a reserved name and is not allowed' })
  })

  it('rejects values that are not plain data', () => {
    class Weight {
      value = 5
    }
    const cases: Array<[Mutation, string, string]> = [
      [(d) => (d.name = new Date()), 'name', 'must be plain data (got a Date)'],
      [(d) => (d.target.env = new Map([['A', 'b']])), 'target.env', 'must be plain data (got a Map)'],
      [(d) => (d.strategy.canary.steps[0] = new Weight()), 'strategy.canary.steps[0]', 'must be plain data (got a Weight)'],
      [(d) => (d.gates[0].judge = new Proxy({ kind: 'sequential' }, {})), 'gates[0].judge', 'must be plain data (got a Proxy)'],
      [(d) => (d.name = () => 'x'), 'name', 'must be plain data (got a function)'],
      [(d) => (d.name = Symbol('x')), 'name', 'must be plain data (got a symbol)'],
      [(d) => (d.inconclusiveLimit = 10n), 'inconclusiveLimit', 'must be plain data (got a bigint)'],
      [(d) => Object.defineProperty(d, 'name', { get: () => 'x', enumerable: true }), 'name', 'must be plain data (got a computed property)'],
    ]
    for (const [mutate, path, message] of cases) {
      const doc = base()
      mutate(doc)
      expect(issuesOf(doc)).toContainEqual({ path, message })
    }
    expect(issuesOf(new Date())).toEqual([{ path: '', message: 'must be plain data (got a Date)' }])
  })

  it('rejects numbers that are not finite', () => {
    const doc = base()
    doc.strategy.canary.steps[0].setWeight = Number.NaN
    doc.gates[0].judge.max = Number.POSITIVE_INFINITY
    expect(issuesOf(doc)).toEqual([
      { path: 'strategy.canary.steps[0].setWeight', message: 'must be a finite number (got NaN)' },
      { path: 'gates[0].judge.max', message: 'must be a finite number (got Infinity)' },
    ])
    expect(issuesOf('name: .inf')).toEqual([{ path: 'name', message: 'must be a finite number (got Infinity)' }])
    expect(issuesOf('{"name": 1e999}')).toEqual([{ path: 'name', message: 'must be a finite number (got Infinity)' }])
  })

  it('accepts null-prototype objects and does not mutate its input', () => {
    const doc = base()
    const bare = Object.assign(Object.create(null) as Doc, doc)
    const before = JSON.stringify(bare)
    expect(specOf(bare).name).toBe('checkout')
    expect(JSON.stringify(bare)).toBe(before)
  })
})

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['0s', 0],
    ['500ms', 500],
    ['20s', 20_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1h30m', 5_400_000],
    ['1h0m5s250ms', 3_605_250],
    ['1.5h', 5_400_000],
    ['0.5s', 500],
    ['24h', 86_400_000],
  ])('%s -> %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each([
    ['', 'is empty'],
    ['-5s', 'must not be negative'],
    ['+5s', 'must not have a sign'],
    ['30', 'needs a unit (got "30"); write "30s"'],
    ['1m30', 'needs a unit after 30'],
    ['5d', 'unknown unit "d"'],
    ['5sec', 'unknown unit "sec"'],
    ['1s1m', 'largest to smallest'],
    ['1m1m', 'largest to smallest'],
    ['25h', 'is too long'],
    ['24h1ms', 'is too long'],
    ['99999999999999999999h', 'is too long'],
    ['abc', 'is not a duration'],
    ['5 s', 'must not contain spaces'],
    ['1e3s', 'unknown unit "e"'],
    ['.5s', 'is not a duration'],
  ])('rejects %j (%s)', (text, message) => {
    expect(() => parseDuration(text)).toThrow(DurationError)
    expect(() => parseDuration(text)).toThrow(message)
  })

  it('formats milliseconds back', () => {
    expect(formatDuration(90_000)).toBe('1m30s')
    expect(formatDuration(250)).toBe('250ms')
    expect(formatDuration(0)).toBe('0s')
    expect(formatDuration(3_600_000)).toBe('1h')
  })
})

describe('helpers', () => {
  it('formats paths', () => {
    expect(formatPath([])).toBe('')
    expect(formatPath(['strategy', 'canary', 'steps', 2, 'setWeight'])).toBe('strategy.canary.steps[2].setWeight')
    expect(formatPath(['gates', 3, 'name'])).toBe('gates[3].name')
    expect(formatPath(['target', 'env', 'MY.VAR'])).toBe('target.env["MY.VAR"]')
    expect(formatPath([0, 'a'])).toBe('[0].a')
    expect(formatPath(['a', Symbol('s')])).toBe('a[Symbol(s)]')
  })

  it('names the kind of a step', () => {
    const steps: StepSpec[] = [{ setWeight: 5 }, { analyze: { min: '0s', minMs: 0 } }, { pause: {} }]
    expect(steps.map(stepKind)).toEqual(['setWeight', 'analyze', 'pause'])
  })

  it('describes the built-in signals with units and ranges', () => {
    expect(Object.keys(BUILTIN_SIGNALS).sort()).toEqual(
      ['errorRate', 'latencyP50', 'latencyP95', 'latencyP99', 'logErrorRatio', 'requestRate', 'spanDurationP95', 'traceErrorRate'].sort(),
    )
    expect(BUILTIN_SIGNALS.requestRate).toMatchObject({ unit: 'req/s', min: 0, max: null })
    expect(BUILTIN_SIGNALS.errorRate).toMatchObject({ unit: 'fraction', min: 0, max: 1 })
    expect(BUILTIN_SIGNALS.latencyP95).toMatchObject({ unit: 'seconds', min: 0, max: 3600 })
    expect(BUILTIN_SIGNALS.spanDurationP95).toMatchObject({ unit: 'seconds' })
    expect(BUILTIN_SIGNALS.logErrorRatio).toMatchObject({ unit: 'fraction', max: 1 })
  })

  it('assertSpec returns the spec or throws a SpecError carrying the issues', () => {
    expect(assertSpec(DESIGN_EXAMPLE).name).toBe('checkout')
    const doc = base()
    doc.strategy.canary.steps[0].setWeight = 101
    let caught: unknown
    try {
      assertSpec(doc)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(SpecError)
    expect(caught).toBeInstanceOf(Error)
    const error = caught as SpecError
    expect(error.issues).toEqual([{ path: 'strategy.canary.steps[0].setWeight', message: 'must be between 0 and 100' }])
    expect(error.message).toContain('strategy.canary.steps[0].setWeight: must be between 0 and 100')
  })
})

describe('gate source (a declared provider)', () => {
  const base = {
    name: 'app',
    target: { kind: 'process', listen: '127.0.0.1:8080', command: ['node', 'app.mjs'] },
    strategy: { canary: { steps: [{ setWeight: 10 }, { analyze: { min: '10s' } }] } },
  }
  it('keeps a valid source on a provider gate', () => {
    const result = parseSpec({ ...base, gates: [{ name: 'p95', provider: 'prometheus', source: 'prod-prom', query: 'x{version="{{version}}"}', judge: { kind: 'threshold', max: 1 } }] })
    expect(result.ok && result.spec.gates[0]).toMatchObject({ provider: 'prometheus', source: 'prod-prom' })
  })
  it.each([
    [{ name: 'e', signal: 'errorRate', source: 'prod-prom', judge: { kind: 'threshold', max: 0.1 } }, 'gates[0].source', /built-in signal/],
    [{ name: 'p', provider: 'prometheus', source: 'Prod Prom', query: 'x{v="{{version}}"}', judge: { kind: 'threshold', max: 1 } }, 'gates[0].source', /./],
  ])('rejects %j', (gate, path, message) => {
    const result = parseSpec({ ...base, gates: [gate] })
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.issues.find((i) => i.path === path)?.message).toMatch(message)
  })
})

describe('sequential gates', () => {
  const base = {
    name: 'app',
    target: { kind: 'process', listen: '127.0.0.1:8080', command: ['node', 'app.mjs'] },
    strategy: { canary: { steps: [{ setWeight: 10 }, { analyze: { min: '10s' } }] } },
  }
  it.each(['errorRate', 'latencyP95', 'logErrorRatio'])('accepts a sequential judge on %s', (signal) => {
    expect(parseSpec({ ...base, gates: [{ name: 'g', signal, judge: { kind: 'sequential' } }] }).ok).toBe(true)
  })
  const traceql = '{ resource.service.version = "{{version}}" && status = error }'
  it('accepts a sequential judge on a tempo gate (Tempo reports its matching and total traces)', () => {
    const result = parseSpec({ ...base, gates: [{ name: 'trace-errors', provider: 'tempo', source: 'prod-tempo', query: traceql, judge: { kind: 'sequential', alpha: 0.01, margin: '1%' } }] })
    expect(result.ok && result.spec.gates[0]).toMatchObject({ provider: 'tempo', judge: { kind: 'sequential', alpha: 0.01, margin: 0.01 } })
  })
  it.each([
    [{ name: 'g', signal: 'requestRate', judge: { kind: 'sequential' } }, /sequential supports errorRate/],
    [{ name: 'g', signal: 'spanDurationP95', judge: { kind: 'sequential' } }, /use threshold or relative for spanDurationP95/],
    [{ name: 'g', provider: 'prometheus', query: 'x{v="{{version}}"}', judge: { kind: 'sequential' } }, /a prometheus query gives one value per window: use threshold or relative \(sequential works on tempo gates\)/],
    [{ name: 'g', provider: 'loki', query: 'sum(count_over_time({v="{{version}}"}[1m]))', judge: { kind: 'sequential' } }, /a loki query gives one value per window/],
  ])('refuses %j at gates[0].judge.kind', (gate, message) => {
    const result = parseSpec({ ...base, gates: [gate] })
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.issues.find((i) => i.path === 'gates[0].judge.kind')?.message).toMatch(message)
  })
  // Bad input on a tempo sequential gate: the same field-level errors as on any gate, nothing else.
  it.each([
    ['margin above 50 points', { kind: 'sequential', margin: '60%' }, traceql, 'gates[0].judge.margin', /at most 50 percentage points/],
    ['margin of zero', { kind: 'sequential', margin: 0 }, traceql, 'gates[0].judge.margin', /above 0/],
    ['alpha above 0.2', { kind: 'sequential', alpha: 0.5 }, traceql, 'gates[0].judge.alpha', /at most 0.2/],
    ['alpha as a string', { kind: 'sequential', alpha: 'often' }, traceql, 'gates[0].judge.alpha', /./],
    ['a threshold field', { kind: 'sequential', max: 0.1 }, traceql, 'gates[0].judge.max', /is used with kind: threshold/],
    ['no {{version}} in the query', { kind: 'sequential' }, '{ status = error }', 'gates[0].query', /must contain \{\{version\}\}/],
    ['an empty query', { kind: 'sequential' }, ' ', 'gates[0].query', /must not be empty/],
    ['a query over 8 KiB', { kind: 'sequential' }, `{{version}}${'x'.repeat(8192)}`, 'gates[0].query', /the limit is 8 KiB/],
  ])('refuses a tempo sequential gate with %s, at its field only', (_what, judge, query, path, message) => {
    const result = parseSpec({ ...base, gates: [{ name: 'g', provider: 'tempo', query, judge }] })
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.issues.find((i) => i.path === path)?.message).toMatch(message)
    expect(result.issues.every((i) => i.path.startsWith(path))).toBe(true)
  })
  it('accepts maxRatio on an error gate and keeps it', () => {
    const result = parseSpec({ ...base, gates: [{ name: 'g', signal: 'errorRate', judge: { kind: 'sequential', margin: '1%', maxRatio: 5 } }] })
    expect(result.ok && result.spec.gates[0]!.judge).toEqual({ kind: 'sequential', alpha: 0.01, margin: 0.01, maxRatio: 5 })
  })
  it.each([
    ['a ratio of 1', { kind: 'sequential', maxRatio: 1 }, 'errorRate', /ratio above 1 and at most 100/],
    ['a ratio below 1', { kind: 'sequential', maxRatio: 0.5 }, 'errorRate', /ratio above 1 and at most 100/],
    ['a huge ratio', { kind: 'sequential', maxRatio: 1e9 }, 'errorRate', /ratio above 1 and at most 100/],
    ['a string', { kind: 'sequential', maxRatio: '2x' }, 'errorRate', /./],
    ['NaN', { kind: 'sequential', maxRatio: Number.NaN }, 'errorRate', /./],
    ['null', { kind: 'sequential', maxRatio: null }, 'errorRate', /./],
    ['a latency gate', { kind: 'sequential', maxRatio: 2 }, 'latencyP95', /is for error counts; a latency gate’s allowed slowdown is its margin/],
  ])('refuses maxRatio as %s, at gates[0].judge.maxRatio only', (_what, judge, signal, message) => {
    const result = parseSpec({ ...base, gates: [{ name: 'g', signal, judge }] })
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.issues.find((i) => i.path === 'gates[0].judge.maxRatio')?.message).toMatch(message)
    expect(result.issues.every((i) => i.path.startsWith('gates[0].judge.maxRatio'))).toBe(true)
  })
  it('refuses maxRatio on a threshold judge, naming the kinds that use it', () => {
    const result = parseSpec({ ...base, gates: [{ name: 'g', signal: 'errorRate', judge: { kind: 'threshold', max: 0.01, maxRatio: 2 } }] })
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.issues.find((i) => i.path === 'gates[0].judge.maxRatio')?.message).toMatch(/relative or sequential/)
  })
  it('refuses a sequential judge on a tempo gate with a built-in signal too, as either/or', () => {
    const result = parseSpec({ ...base, gates: [{ name: 'g', provider: 'tempo', signal: 'errorRate', query: traceql, judge: { kind: 'sequential' } }] })
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.issues.map((i) => i.message).join('; ')).toMatch(/either signal or provider, not both/)
  })
})
