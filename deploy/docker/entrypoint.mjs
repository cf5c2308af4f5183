import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { ROLES, currentRole } from './roles.mjs'

// The image's entrypoint: `sentra <role> [args...]` runs that program with tsx, in the
// foreground, forwarding signals so `docker stop` stops Sentra cleanly.
const role = currentRole()
const entry = ROLES[role]
if (!entry) {
  console.error(`unknown role "${role}"; one of: ${Object.keys(ROLES).join(', ')}`)
  process.exit(2)
}
const tsx = createRequire(import.meta.url).resolve('tsx/cli')
const child = spawn(process.execPath, [tsx, entry.program, ...process.argv.slice(3)], {
  stdio: 'inherit',
  env: { ...process.env, SENTRA_ROLE: role },
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
