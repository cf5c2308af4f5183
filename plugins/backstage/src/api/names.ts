/**
 * Sentra's application names (the `label` rule of schema/spec/rules.ts in Sentra): lowercase
 * letters, digits and '-', starting with a letter, ending alphanumeric, at most 63 characters.
 * Checked before any request, so a bad annotation never reaches the server.
 */
const APPLICATION_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/

export const APPLICATION_NAME_RULE = "lowercase letters, digits and '-', starting with a letter, at most 63 characters"

export function isApplicationName(value: string): boolean {
  return APPLICATION_NAME.test(value)
}
