/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) and the choices the generators make
 * with it. Every fuzz case is drawn from one of these, so a seed reproduces the whole run.
 */
export class Rng {
  #a: number
  #b: number
  #c: number
  #d: number

  constructor(readonly seed: number) {
    let s = seed >>> 0
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad)
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97)
      return (z ^ (z >>> 15)) >>> 0
    }
    this.#a = next()
    this.#b = next()
    this.#c = next()
    this.#d = next()
  }

  /** A float in [0, 1). */
  next(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0
    this.#d = (this.#d + 1) >>> 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) >>> 0
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0
    this.#c = (this.#c + t) >>> 0
    return t / 4294967296
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[Math.floor(this.next() * items.length)] as T
  }

  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(entries: readonly (readonly [number, T])[]): T {
    const total = entries.reduce((sum, [w]) => sum + w, 0)
    let roll = this.next() * total
    for (const [w, value] of entries) {
      roll -= w
      if (roll < 0) return value
    }
    return entries[entries.length - 1]![1]
  }

  /** A few of the items, in random order. */
  some<T>(items: readonly T[], min = 0, max = items.length): T[] {
    const copy = [...items]
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.int(0, i)
      ;[copy[i], copy[j]] = [copy[j] as T, copy[i] as T]
    }
    return copy.slice(0, this.int(Math.min(min, copy.length), Math.min(max, copy.length)))
  }

  /** A derived generator, so one case's draws do not shift the next case's. */
  fork(salt: number): Rng {
    return new Rng((Math.imul(this.seed ^ 0x5bd1e995, 31) + salt) >>> 0)
  }
}

/** The run's seed: SENTRA_FUZZ_SEED when set (to reproduce a failure), else a fresh one. */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.SENTRA_FUZZ_SEED
  if (given !== undefined && given !== '') {
    const seed = Number(given)
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`SENTRA_FUZZ_SEED must be an integer 0..4294967295 (got ${given})`)
    return seed
  }
  return Math.floor(Math.random() * 0xffffffff) >>> 0
}

/** A positive integer from the environment, or the default. */
export function envCount(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const given = env[name]
  if (given === undefined || given === '') return fallback
  const value = Number(given)
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer (got ${given})`)
  return value
}
