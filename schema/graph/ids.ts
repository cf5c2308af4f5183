import { decodeGlobalID } from '@pothos/plugin-relay'
import { badInput } from './errors.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * Turns a Relay global ID of the expected type into the stored id, or a BAD_USER_INPUT
 * error naming the argument. Never throws anything else, whatever the input.
 */
export function parseGlobalId(raw: string, typename: string, argument = 'id'): string {
  if (raw.length > 200) throw badInput(`${argument}: not a valid ${typename} id`, argument)
  let decoded: { typename: string; id: string }
  try {
    decoded = decodeGlobalID(raw)
  } catch {
    throw badInput(`${argument}: not a valid ${typename} id`, argument)
  }
  if (decoded.typename !== typename || !UUID.test(decoded.id)) {
    throw badInput(`${argument}: not a valid ${typename} id`, argument)
  }
  return decoded.id
}
