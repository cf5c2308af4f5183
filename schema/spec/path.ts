/** Field paths and "did you mean" hints for spec issues. */

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/

/**
 * Formats a path the way users read it: `strategy.canary.steps[2].setWeight`.
 * Keys that are not plain identifiers are quoted: `target.env["MY.VAR"]`. The root is `''`.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else if (typeof key === 'symbol') out += `[${key.toString()}]`
    else if (IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`
    else out += `[${JSON.stringify(key)}]`
  }
  return out
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[] = new Array<number>(rows * cols).fill(0)
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0
  for (let i = 0; i < rows; i++) d[i * cols] = i
  for (let j = 0; j < cols; j++) d[j] = j
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1)
      d[i * cols + j] = best
    }
  }
  return at(a.length, b.length)
}

const fold = (s: string): string => s.toLowerCase().replace(/[-_\s]/g, '')

/** The closest candidate when `word` is a near miss of one (case, `_`/`-`, or a typo or two), else undefined. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > 64) return undefined
  const folded = fold(word)
  const exactish = candidates.find((c) => fold(c) === folded)
  if (exactish !== undefined) return exactish
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const limit = candidate.length <= 4 ? 1 : candidate.length <= 8 ? 2 : 3
    const distance = editDistance(folded, fold(candidate))
    if (distance <= limit && distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

/** `a`, `a or b`, `a, b or c`. */
export function listOr(items: readonly string[]): string {
  if (items.length <= 1) return items.join('')
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`
}
