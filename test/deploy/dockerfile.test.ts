import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ROLES } from '../../deploy/docker/roles.mjs'

/**
 * No base image can be pulled here, so the Dockerfile is checked for its structure, and its
 * entrypoint and health check (plain Node programs) are run for real.
 */
const root = fileURLToPath(new URL('../../', import.meta.url))
const dockerfile = readFileSync(`${root}Dockerfile`, 'utf8')
// Instructions with their continuation lines joined.
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'))
const stages = instructions.filter((line) => line.startsWith('FROM '))
const finalStage = instructions.slice(instructions.lastIndexOf(stages.at(-1) ?? ''))

describe('Dockerfile', () => {
  it('is multi-stage: the runtime stage has no compiler and copies only the build output', () => {
    expect(stages.map((s) => s.split(/\s+/).at(-1))).toEqual(['deps', 'build', 'runtime'])
    for (const from of stages) expect(from).toMatch(/^FROM node:20-bookworm-slim( AS \w+)?$|^FROM (deps|build) AS \w+$/)
    expect(finalStage.join('\n')).not.toMatch(/g\+\+|make|python3/)
    expect(finalStage.some((line) => /^COPY --from=build\b/.test(line))).toBe(true)
    expect(instructions.join('\n')).toMatch(/npm ci --no-audit --no-fund/)
    expect(instructions.join('\n')).toMatch(/npm run build:web/)
    expect(instructions.join('\n')).toMatch(/npm prune --omit=dev/)
  })

  it('runs as a non-root user with a health check and the role entrypoint', () => {
    const user = finalStage.find((line) => line.startsWith('USER '))
    expect(user).toMatch(/^USER [1-9]\d*:[1-9]\d*$/)
    expect(finalStage.find((line) => line.startsWith('HEALTHCHECK '))).toMatch(/CMD \["node", "deploy\/docker\/healthcheck\.mjs"\]/)
    expect(finalStage).toContain('ENTRYPOINT ["node", "deploy/docker/entrypoint.mjs"]')
    expect(finalStage).toContain('CMD ["embedded"]')
  })

  it('keeps local state and secrets out of the build context', () => {
    const ignored = readFileSync(`${root}.dockerignore`, 'utf8').split('\n')
    for (const entry of ['**/node_modules', '.git', '.sentra', '.env', 'web/.next']) expect(ignored).toContain(entry)
  })

  it('knows a program for every role, and each exists', () => {
    expect(Object.keys(ROLES).sort()).toEqual(['cli', 'controller', 'demo', 'embedded', 'server', 'web'])
    for (const [role, { program }] of Object.entries(ROLES)) expect(existsSync(`${root}${program}`), role).toBe(true)
  })
})

describe('deploy/docker/entrypoint.mjs', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [`${root}deploy/docker/entrypoint.mjs`, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 })

  it('runs the role given as the first argument with the rest of the arguments', () => {
    const result = run(['cli', '--help'])
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/usage: sentra <command>/)
  })

  it('refuses an unknown role with the list of roles', () => {
    const result = run(['; rm -rf /'])
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/unknown role "; rm -rf \/"; one of: embedded, server, controller, web, demo, cli/)
  })
})

describe('deploy/docker/healthcheck.mjs', () => {
  const check = (env: Record<string, string>) =>
    spawnSync(process.execPath, [`${root}deploy/docker/healthcheck.mjs`], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 }).status

  it('is unhealthy when the role\'s port does not answer, healthy for a controller without a metrics port', () => {
    expect(check({ SENTRA_ROLE: 'server', SENTRA_PORT: '1' })).toBe(1)
    expect(check({ SENTRA_ROLE: 'controller' })).toBe(0)
    expect(check({ SENTRA_ROLE: 'controller', SENTRA_METRICS_PORT: '1' })).toBe(1)
    expect(check({ SENTRA_ROLE: 'nonsense' })).toBe(1)
  })
})
