import type { Command } from '../command.ts'
import { apply } from './apply.ts'
import { apps } from './apps.ts'
import { audit } from './audit.ts'
import { abort, pause, promote, resume, rollback } from './control.ts'
import { get } from './get.ts'
import { login } from './login.ts'
import { rollouts } from './rollouts.ts'
import { start } from './start.ts'
import { watch } from './watch.ts'

/** Every command, in the order the overview lists them. */
export const COMMANDS: readonly Command[] = [login, apply, apps, rollouts, get, start, promote, pause, resume, rollback, abort, watch, audit]

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name)
}
