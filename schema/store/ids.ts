import { randomUUID } from 'node:crypto'

/** A new random id (UUID v4) for any row; ids are made by the app so MySQL needs no RETURNING. */
export function newId(): string {
  return randomUUID()
}
