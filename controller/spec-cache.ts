import { SpecError, assertSpec, type AppSpec } from '../schema/spec.ts'

/**
 * Validated specs by application, so a tick does not run the whole spec schema again on a
 * spec that did not change (it was the largest single cost of a tick after the judges,
 * bench/controller). The stored document's JSON text is the key: any change of the spec,
 * however small or quick, is validated afresh. Bounded: the oldest entry goes first.
 */
export class SpecCache {
  readonly #entries = new Map<string, { text: string; spec: AppSpec }>()
  readonly #capacity: number

  constructor(capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`spec cache capacity must be a positive integer (got ${capacity})`)
    this.#capacity = capacity
  }

  /**
   * The application's validated spec from its stored JSON text, as the store holds it: an
   * unchanged spec costs a string comparison, not a parse (a tick reads the text with its
   * rollout, every tick). Throws SpecError like assertSpec when the spec is invalid or the
   * text is not JSON (nothing is cached then).
   */
  specOf(applicationId: string, text: string): AppSpec {
    const known = this.#entries.get(applicationId)
    if (known !== undefined && known.text === text) return known.spec
    const spec = assertSpec(parseStored(text))
    this.#entries.delete(applicationId)
    this.#entries.set(applicationId, { text, spec })
    if (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value as string)
    return spec
  }
}

function parseStored(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new SpecError([{ path: '', message: `the stored spec is not JSON: ${error instanceof Error ? error.message : String(error)}` }])
  }
}
