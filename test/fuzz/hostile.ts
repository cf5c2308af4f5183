/** Hostile values: what a careless or malicious client sends instead of what the schema asks for. */
import type { Rng } from './prng.ts'

/** What the generators know about the server's state (real names and ids to mix in). */
export interface Known {
  applications: string[]
  /** Relay global ids of real rollouts. */
  rolloutIds: string[]
  /** Relay global ids of real applications (the wrong type for a rollout argument). */
  applicationIds: string[]
  tokenIds: string[]
  webhookIds: string[]
  policies: string[]
  providers: string[]
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64')

/** A v4-shaped UUID drawn from the generator (so a seed reproduces it). */
export function rngUuid(rng: Rng): string {
  const hex = Array.from({ length: 32 }, () => rng.int(0, 15).toString(16)).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[rng.int(0, 3)]}${hex.slice(17, 20)}-${hex.slice(20)}`
}

export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  'NaN',
  'Infinity',
  '-Infinity',
  'null',
  'undefined',
  'true',
  '0',
  '-1',
  '1e309',
  '9007199254740993',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '{{version}}',
  '{{constructor.constructor("return process")()}}',
  '{{__proto__}}',
  '{{',
  '}}',
  '${process.env}',
  "'; DROP TABLE rollouts; --",
  '" OR 1=1 --',
  '\\',
  '\\u0000',
  '\u0000',
  '\u0000\u0001\u0002',
  '\r\n\r\nHTTP/1.1 200 OK',
  '\u202e\u200b\ufeff',
  '\ud800',
  '\udfff\ud800',
  '😀🚀𝕏',
  'ﷺ'.repeat(50),
  'Ā'.repeat(300),
  '../../../../etc/passwd',
  'http://169.254.169.254/latest/meta-data/',
  'file:///etc/passwd',
  'javascript:alert(1)',
  '<script>alert(1)</script>',
  '%00%ff',
  '%s%s%s%n',
  'a'.repeat(63),
  'a'.repeat(64),
  'a'.repeat(65),
  'a'.repeat(201),
  'a'.repeat(257),
  'a'.repeat(1001),
  'x'.repeat(4097),
  'checkout',
  'Checkout',
  'CHECKOUT',
  'v2',
  'v-',
  '.v2',
  'sha256:' + '0'.repeat(64),
  '\t\n',
]

/** Strings that look like ids: Relay global ids of every kind, broken and of the wrong type. */
export function hostileId(rng: Rng, known: Known): string {
  const randomUUID = (): string => rngUuid(rng)
  return rng.weighted<() => string>([
    [4, () => (known.rolloutIds.length > 0 ? rng.pick(known.rolloutIds) : b64(`Rollout:${randomUUID()}`))],
    [2, () => (known.applicationIds.length > 0 ? rng.pick(known.applicationIds) : b64(`Application:${randomUUID()}`))],
    [2, () => b64(`Rollout:${randomUUID()}`)],
    [1, () => b64(`Application:${randomUUID()}`)],
    [1, () => b64(`Decision:${randomUUID()}`)],
    [1, () => b64(`Rollout:${rng.pick(['', '1', '-1', 'not-a-uuid', randomUUID().toUpperCase(), randomUUID() + 'x', '../x', "'"])}`)],
    [1, () => b64(`:${randomUUID()}`)],
    [1, () => b64('Rollout')],
    [1, () => b64(`${'Rollout:'.repeat(30)}${randomUUID()}`)],
    [1, () => Buffer.from(Array.from({ length: rng.int(0, 48) }, () => rng.int(0, 255))).toString('base64')],
    [1, () => Buffer.from(Array.from({ length: rng.int(0, 48) }, () => rng.int(0, 255))).toString('base64url')],
    [1, () => randomUUID()],
    [1, () => (known.tokenIds.length > 0 ? rng.pick(known.tokenIds) : randomUUID())],
    [1, () => (known.webhookIds.length > 0 ? rng.pick(known.webhookIds) : randomUUID())],
    [1, () => '%%%%'],
    [1, () => '=' + b64('Rollout:x')],
    [1, () => 'A'.repeat(rng.pick([199, 200, 201, 5000]))],
    [2, () => hostileString(rng)],
  ])()
}

export function hostileString(rng: Rng): string {
  return rng.weighted<() => string>([
    [6, () => rng.pick(HOSTILE_STRINGS)],
    [2, () => randomUnicode(rng, rng.int(0, 40))],
    [0.5, () => randomUnicode(rng, rng.int(200, 3000))],
    [0.5, () => rng.pick(['a', 'é', '😀', '\u0000', '{', '"']).repeat(rng.pick([100, 1000]))],
    // Big values are rare: they are expensive to make and to send, and a few find what many would.
    [0.05, () => rng.pick(['a', 'é', '😀', '\u0000', '{', '"', '*']).repeat(rng.pick([10_000, 70_000]))],
  ])()
}

/** Code points from every plane, surrogate halves and controls included. */
export function randomUnicode(rng: Rng, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) {
    const range = rng.weighted<readonly [number, number]>([
      [6, [0x20, 0x7e]],
      [1, [0x00, 0x1f]],
      [1, [0x80, 0x7ff]],
      [1, [0x800, 0xffff]],
      [1, [0x10000, 0x10ffff]],
    ])
    const code = rng.int(range[0], range[1])
    out += code > 0xffff ? String.fromCodePoint(code) : String.fromCharCode(code)
  }
  return out
}

/** Numbers that break naive integer handling; some are not finite (sent only where they can be). */
export const HOSTILE_NUMBERS: readonly number[] = [
  0, -0, -1, 1, 2, 99, 100, 101, 1000, 1001, -2147483648, 2147483647, 2147483648, 4294967296, 9007199254740991, 9007199254740993,
  -9007199254740993, 1e21, 1e308, -1e308, 5e-324, 0.5, 1.0000001, -0.0001, 3.14159,
]

/** A value of any JSON type, sometimes big or deep. */
export function hostileJson(rng: Rng, depth = 0): unknown {
  const kinds: [number, () => unknown][] = [
    [3, () => hostileString(rng)],
    [3, () => rng.pick(HOSTILE_NUMBERS)],
    [1, () => rng.chance(0.5)],
    [1, () => null],
  ]
  if (depth < 4) {
    kinds.push([1, () => Array.from({ length: rng.int(0, 4) }, () => hostileJson(rng, depth + 1))])
    kinds.push([
      1,
      () => {
        const out: Record<string, unknown> = {}
        for (let i = rng.int(0, 4); i > 0; i--) out[rng.chance(0.3) ? rng.pick(['__proto__', 'constructor', 'prototype']) : hostileKey(rng)] = hostileJson(rng, depth + 1)
        return out
      },
    ])
  }
  kinds.push([0.2, () => deepNest(rng.pick([40, 200, 2000]), rng.chance(0.5))])
  kinds.push([0.03, () => Array.from({ length: rng.pick([1000, 20_000]) }, (_, i) => i)])
  return rng.weighted(kinds)()
}

export function hostileKey(rng: Rng): string {
  return rng.pick(['name', 'kind', 'target', 'strategy', 'gates', 'steps', 'a', '', ' ', '0', '__proto__', 'constructor', 'prototype', 'toString', '$ref', '<<', '😀', 'x'.repeat(300)])
}

/** [[[...]]] or {a:{a:{...}}} `levels` deep. */
export function deepNest(levels: number, asArray: boolean): unknown {
  let value: unknown = 1
  for (let i = 0; i < levels; i++) value = asArray ? [value] : { a: value }
  return value
}
