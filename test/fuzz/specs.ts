/**
 * Application specs (and the other JSON documents the graph takes: policies, guardrails,
 * providers), valid ones and mutated ones: keys dropped, wrong types, huge lists, hostile
 * templates, prototype-pollution keys, and as YAML or JSON text with broken syntax.
 */
import { stringify } from 'yaml'
import { demoSpec } from '../support/api.ts'
import { deepNest, HOSTILE_NUMBERS, hostileJson, hostileKey, hostileString, type Known } from './hostile.ts'
import type { Rng } from './prng.ts'

type Doc = Record<string, unknown>

const PROM_QUERY = 'sum(rate(http_requests_total{app="checkout",version="{{version}}",code=~"5.."}[{{window}}]))'

/** A spec that passes validation, in one of its many shapes. */
export function validSpec(rng: Rng, name: string): Doc {
  const spec = demoSpec(name)
  const port = rng.int(20_000, 40_000)
  spec.target = rng.weighted<() => unknown>([
    [3, () => ({ kind: 'process', listen: `127.0.0.1:${port}`, command: ['node', 'services/demo.mjs'], env: { APP_VERSION: '{{version}}', PORT: '{{port}}' } })],
    [1, () => ({ kind: 'docker', listen: `127.0.0.1:${port}`, image: 'shop/checkout:{{version}}', containerPort: 8080 })],
    [1, () => ({ kind: 'kubernetes', namespace: 'shop', deployment: name, service: name, ...(rng.chance(0.5) ? { httpRoute: name } : {}) })],
  ])()
  if (rng.chance(0.25)) spec.strategy = { blueGreen: { analyze: { min: '1m' }, scaleDownDelay: '30s' } }
  if (rng.chance(0.3)) spec.interval = rng.pick(['2s', '5s', '1m'])
  if (rng.chance(0.2)) spec.inconclusiveLimit = rng.int(1, 10)
  if (rng.chance(0.2)) {
    ;(spec.gates as unknown[]).push({ name: 'seq', signal: 'errorRate', judge: { kind: 'sequential', alpha: 0.01 } })
  }
  return spec
}

export function validPolicy(rng: Rng, name: string): Doc {
  return {
    name,
    description: rng.chance(0.5) ? 'fuzz policy' : hostileString(rng).slice(0, 200),
    strategy: { canary: { steps: [{ setWeight: 5 }, { analyze: { min: '30s' } }, { setWeight: 50 }] } },
    gates: [{ name: 'errors', signal: 'errorRate', judge: { kind: 'sequential', alpha: 0.01 } }],
  }
}

export function validProvider(rng: Rng, name: string): Doc {
  return {
    name,
    kind: rng.pick(['prometheus', 'loki', 'tempo']),
    url: `http://127.0.0.1:${rng.int(1025, 65000)}`,
    ...(rng.chance(0.3) ? { bearerToken: 'secret-token' } : {}),
    ...(rng.chance(0.3) ? { headers: { 'X-Team': 'shop' } } : {}),
    ...(rng.chance(0.3) ? { timeout: '3s' } : {}),
  }
}

export function validGuardrails(rng: Rng): Doc {
  // Never the '*' environment with strict rules: it would refuse every later valid spec.
  return { environment: rng.pick(['staging', 'fuzz-env']), rules: { maxFirstStepWeight: rng.int(10, 100) } }
}

/** Every path in a document: ['strategy', 'canary', 'steps', 0] and so on. */
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return out
  for (const [key, child] of Object.entries(value)) {
    const path = [...prefix, Array.isArray(value) ? Number(key) : key]
    out.push(path)
    paths(child, path, out)
  }
  return out
}

function parentOf(root: unknown, path: (string | number)[]): Record<string | number, unknown> | null {
  let node: unknown = root
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return null
    node = (node as Record<string | number, unknown>)[key]
  }
  return node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>) : null
}

/** String(value), for values whose own `toString` key may be anything (a mutation put it there). */
function textOf(value: unknown): string {
  try {
    return String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

function wrongType(rng: Rng, current: unknown): unknown {
  const options: unknown[] = [null, true, 0, -1, 1e308, 'NaN', '', [], {}, [current], { value: current }, textOf(current), hostileString(rng)]
  if (typeof current === 'number') options.push(String(current), current * 1e10, -current, current + 0.5, `${current}%`)
  if (typeof current === 'string') options.push(Number(current), `${current}${current}`, current.toUpperCase(), ` ${current} `)
  return rng.pick(options)
}

const TEMPLATES = [
  '{{version}}',
  '{{ version }}',
  '{{port}}',
  '{{window}}',
  '{{unknown}}',
  '{{',
  '}}{{',
  '{{{{version}}}}',
  '{{constructor}}',
  '{{__proto__}}',
  '{{toString}}',
  '{{version}}'.repeat(500),
  '{{#each this}}{{/each}}',
  '${7*7}',
  '`rm -rf /`',
]

/** One mutation of a document, in place; returns a short description for the failure message. */
export function mutateDocument(rng: Rng, doc: Doc): string {
  const all = paths(doc)
  const path = all.length > 0 ? rng.pick(all) : []
  const parent = path.length > 0 ? parentOf(doc, path) : null
  const key = path[path.length - 1]
  const where = path.join('.')
  return rng.weighted<() => string>([
    [3, () => {
      if (!parent || key === undefined) return 'nothing'
      if (Array.isArray(parent)) parent.splice(Number(key), 1)
      else delete parent[key]
      return `dropped ${where}`
    }],
    [4, () => {
      if (!parent || key === undefined) return 'nothing'
      parent[key] = wrongType(rng, parent[key])
      return `wrong type at ${where}`
    }],
    [2, () => {
      if (!parent || key === undefined) return 'nothing'
      parent[key] = hostileJson(rng)
      return `hostile value at ${where}`
    }],
    [2, () => {
      const target = parent && key !== undefined && parent[key] !== null && typeof parent[key] === 'object' && !Array.isArray(parent[key]) ? (parent[key] as Doc) : doc
      const k = rng.pick(['__proto__', 'constructor', 'prototype', hostileKey(rng)])
      const polluted = rng.pick<unknown>([{ polluted: true, isAdmin: true }, { prototype: { polluted: true } }, null, 'x', [1]])
      // defineProperty: an own "__proto__" key, as JSON.parse would make it.
      Object.defineProperty(target, k, { value: polluted, enumerable: true, writable: true, configurable: true })
      return `key ${k} at ${where || '<root>'}`
    }],
    [2, () => {
      const steps = rng.weighted<() => unknown>([
        [1, () => Array.from({ length: 101 }, (_, i) => ({ setWeight: (i % 100) + 1 }))],
        [0.2, () => Array.from({ length: rng.pick([1000, 10_000]) }, (_, i) => ({ setWeight: (i % 100) + 1 }))],
        [0.1, () => Array.from({ length: rng.pick([1000, 30_000]) }, () => ({}))],
        [1, () => [{ setWeight: rng.pick(HOSTILE_NUMBERS) }, { analyze: { min: rng.pick(['-1s', '0s', '99999999h', '1e9s', 'NaN', '1 m', '', '5m30', '1y']), max: '1s' } }]],
        [1, () => [{ setWeight: 5, analyze: {}, pause: {} }]],
        [1, () => [{ pause: { duration: rng.pick(['0s', '-5m', '1000000000000h', 'forever', 5]) } }]],
      ])()
      doc.strategy = rng.chance(0.8) ? { canary: { steps } } : { canary: { steps }, blueGreen: {} }
      return 'strategy steps'
    }],
    [2, () => {
      const gates = rng.weighted<() => unknown>([
        [0.5, () => Array.from({ length: rng.chance(0.8) ? 51 : 2000 }, (_, i) => ({ name: `g${i}`, signal: 'errorRate', judge: { kind: 'threshold', max: 0.02 } }))],
        [2, () => [{ name: 'q', provider: rng.pick(['prometheus', 'loki', 'tempo', 'graphite', '']), query: rng.pick([PROM_QUERY, ...TEMPLATES, rng.chance(0.2) ? 'x'.repeat(9000) : 'x', hostileString(rng)]), judge: { kind: 'threshold', max: rng.pick(HOSTILE_NUMBERS) } }]],
        [2, () => [{ name: 'e', signal: rng.pick(['errorRate', 'latencyP95', 'requestRate', 'nope', '__proto__', 'constructor']), judge: { kind: rng.pick(['threshold', 'relative', 'sequential', 'mannWhitney', 'anomaly', 'eval', '']), max: rng.pick(HOSTILE_NUMBERS), maxRatio: rng.pick(HOSTILE_NUMBERS), alpha: rng.pick(HOSTILE_NUMBERS) } }]],
        [1, () => [{ name: 'dup', signal: 'errorRate', judge: { kind: 'threshold', max: 0.1 } }, { name: 'dup', signal: 'errorRate', judge: { kind: 'threshold', max: 0.1 } }]],
      ])()
      doc.gates = gates
      return 'gates'
    }],
    [2, () => {
      const t = (doc.target !== null && typeof doc.target === 'object' && !Array.isArray(doc.target) ? doc.target : {}) as Doc
      const field = rng.pick(['command', 'env', 'image', 'listen', 'healthPath', 'cwd', 'namespace', 'deployment', 'service', 'httpRoute', 'containerPort'])
      const template = rng.pick(TEMPLATES)
      t[field] = field === 'command' ? [template, template] : field === 'env' ? { [rng.pick(['APP', '__proto__', '1BAD', 'A'.repeat(300)])]: template } : template
      doc.target = t
      return `template at target.${field}`
    }],
    [1, () => {
      doc.name = rng.pick(['', 'A', 'a_b', '-a', 'a-', 'a'.repeat(64), '😀', '__proto__', 'constructor', 'checkout\u0000', ' checkout', hostileString(rng)])
      return 'name'
    }],
    [1, () => {
      Object.assign(doc, rng.pick<Doc>([{ policy: hostileString(rng) }, { policy: 123 }, { environment: hostileString(rng) }, { interval: rng.pick(['0s', '1ms', '6m', '-1s', 5, '5']) }, { inconclusiveLimit: rng.pick(HOSTILE_NUMBERS) }, { intervalMs: 1 }]))
      return 'top-level extras'
    }],
    [0.5, () => {
      doc.target = deepNest(rng.pick([31, 33, 500]), rng.chance(0.5))
      return 'deep target'
    }],
  ])()
}

/** A document as the JSON argument carries it: an object, or YAML/JSON text (sometimes broken). */
export function encodeDocument(rng: Rng, doc: unknown): unknown {
  return rng.weighted<() => unknown>([
    [6, () => doc],
    [2, () => safeYaml(doc)],
    [1, () => JSON.stringify(doc)],
    [1, () => {
      const text = rng.chance(0.5) ? safeYaml(doc) : JSON.stringify(doc)
      const at = rng.int(0, text.length)
      return rng.weighted<() => string>([
        [1, () => text.slice(0, at)],
        [1, () => text.slice(0, at) + rng.pick(['\t', ': :', '- -', '{', ']', '&a', '*a', '!!js/function "x"', '<<: *x', '\u0000', '"']) + text.slice(at)],
        [1, () => '\ufeff' + text],
      ])()
    }],
    [1, () => rng.pick(YAML_ATTACKS)],
    [0.03, () => 'x'.repeat(300 * 1024)],
  ])()
}

function safeYaml(doc: unknown): string {
  try {
    return stringify(doc, { aliasDuplicateObjects: false })
  } catch {
    return JSON.stringify(doc) ?? 'null'
  }
}

const LAUGHS = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n')

const YAML_ATTACKS: readonly string[] = [
  LAUGHS,
  'name: !!js/function "function(){return process}"\n',
  'name: !!binary aGVsbG8=\n',
  'name: !!python/object/apply:os.system ["id"]\n',
  'name: .nan\ntarget: .inf\n',
  'name: &a x\n<<: *a\n',
  'base: &b { name: x }\napp:\n  <<: *b\n',
  '__proto__: { polluted: true }\nname: x\n',
  'constructor: { prototype: { polluted: true } }\n',
  '? [a, b]\n: c\n',
  '---\nname: a\n---\nname: b\n',
  '%YAML 1.1\n---\nname: yes\n',
  'name: 0x1F\ntarget: 0o17\n',
  '[' .repeat(5000),
  '{'.repeat(5000),
  '- '.repeat(3000) + 'x',
  'a:\n' + '  '.repeat(2000) + 'b: c',
  '"\\uD800"',
  'name: "\\u0000"\n',
  '',
  '   ',
  '#',
  'null',
  '42',
  '[]',
  '"just a string"',
]

/** A JSON argument for one of the document mutations: valid, mutated, or anything at all. */
export function documentArgument(rng: Rng, field: string, known: Known, { mutate = true } = {}): { value: unknown; mutated: boolean; note: string } {
  const name = rng.chance(0.5) && known.applications.length > 0 ? rng.pick(known.applications) : `fz-${rng.int(0, 9999)}`
  const base: Doc =
    field === 'applyPolicy' ? validPolicy(rng, rng.chance(0.5) && known.policies.length > 0 ? rng.pick(known.policies) : `fz-policy-${rng.int(0, 99)}`)
    : field === 'applyProvider' ? validProvider(rng, rng.chance(0.5) && known.providers.length > 0 ? rng.pick(known.providers) : `fz-prov-${rng.int(0, 99)}`)
    : field === 'applyGuardrails' ? validGuardrails(rng)
    : validSpec(rng, name)
  if (!mutate) return { value: rng.chance(0.8) ? base : safeYaml(base), mutated: false, note: 'valid' }
  if (rng.chance(0.08)) return { value: hostileJson(rng), mutated: true, note: 'anything' }
  const notes: string[] = []
  for (let i = rng.int(1, 3); i > 0; i--) notes.push(mutateDocument(rng, base))
  return { value: encodeDocument(rng, base), mutated: true, note: notes.join('; ') }
}
