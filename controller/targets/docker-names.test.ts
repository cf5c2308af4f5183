/** The docker target's pure parts: engine addresses, image references, names, env, log frames. No engine needed. */
import { describe, expect, it } from 'vitest'
import { assertSpec, type DockerTargetSpec } from '../../schema/spec.ts'
import { readConfig } from '../../server/config.ts'
import { demultiplex } from './docker-engine.ts'
import { configuredDockerHost, describeHost, parseDockerHost } from './docker-host.ts'
import { containerEnv, containerLabels, containerName, imageFor } from './docker-names.ts'

function spec(image: string, env: Record<string, string> = {}): DockerTargetSpec {
  const app = assertSpec({ name: 'shop', target: { kind: 'docker', listen: '127.0.0.1:8080', image, containerPort: 8080, env }, strategy: { canary: { steps: [{ setWeight: 50 }] } } })
  if (app.target.kind !== 'docker') throw new Error('not docker')
  return app.target
}

describe('Docker engine addresses (SENTRA_DOCKER_HOST)', () => {
  it.each([
    ['unix:///var/run/docker.sock', { socketPath: '/var/run/docker.sock' }],
    ['/run/user/1000/docker.sock', { socketPath: '/run/user/1000/docker.sock' }],
    ['tcp://127.0.0.1:2375', { host: '127.0.0.1', port: 2375 }],
    ['tcp://localhost:2375/', { host: 'localhost', port: 2375 }],
    ['http://[::1]:2375', { host: '::1', port: 2375 }],
  ])('accepts %s', (raw, parsed) => {
    expect(parseDockerHost(raw)).toEqual(parsed)
    expect(parseDockerHost(describeHost(parseDockerHost(raw)))).toEqual(parsed)
  })

  it.each([
    ['tcp://10.0.0.5:2375', /must run on this machine/],
    ['tcp://docker.example.com:2376', /must run on this machine/],
    ['tcp://127.0.0.1:99999', /99999 is not a port number/],
    ['unix://relative/docker.sock', /absolute socket path/],
    ['ssh://user@host', /is not a Docker host/],
    ['docker.sock', /is not a Docker host/],
    ['tcp://127.0.0.1', /is not a Docker host/],
    ['/x'.repeat(3000), /at most 4096 characters/],
  ])('refuses %s with the reason', (raw, reason) => {
    expect(() => parseDockerHost(raw)).toThrow(reason)
  })

  it('defaults to the local socket only when it exists; none turns the target off', () => {
    expect(configuredDockerHost(undefined, () => true)).toBe('unix:///var/run/docker.sock')
    expect(configuredDockerHost('', () => false)).toBeNull()
    expect(configuredDockerHost('none', () => true)).toBeNull()
    expect(configuredDockerHost('tcp://127.0.0.1:2375', () => false)).toBe('tcp://127.0.0.1:2375')
  })

  it('a bad SENTRA_DOCKER_HOST is a configuration error naming the variable', () => {
    expect(() => readConfig({ SENTRA_DOCKER_HOST: 'tcp://192.168.1.2:2375' })).toThrow(/^SENTRA_DOCKER_HOST: .*must run on this machine/)
    expect(readConfig({ SENTRA_DOCKER_HOST: 'unix:///tmp/d.sock' }).dockerHost).toBe('unix:///tmp/d.sock')
    expect(readConfig({ SENTRA_DOCKER_HOST: 'off' }).dockerHost).toBeNull()
  })
})

describe('images, names and environment of containers', () => {
  it('fills {{version}} into the image, and refuses a version that is no valid tag', () => {
    expect(imageFor(spec('shop/checkout:{{version}}'), 'v1.2.3')).toBe('shop/checkout:v1.2.3')
    expect(imageFor(spec('localhost:5000/checkout:{{version}}'), 'v2')).toBe('localhost:5000/checkout:v2')
    expect(imageFor(spec('shop/checkout:1.0'), 'v9')).toBe('shop/checkout:1.0')
    expect(() => imageFor(spec('shop/checkout:{{version}}'), '1.0+build')).toThrow(/"1.0\+build" makes the image tag "1.0\+build", which Docker does not accept/)
    expect(() => imageFor(spec('shop/checkout:{{version}}'), '-v1')).toThrow(/does not accept/)
  })

  it('names one container per application and version; unsafe characters get a hash so names never collide', () => {
    expect(containerName('shop', 'v1.2')).toBe('sentra-shop-v1.2')
    const plus = containerName('shop', '1.0+a')
    const underscore = containerName('shop', '1.0_a')
    expect(plus).toMatch(/^sentra-shop-1\.0_a-[0-9a-f]{8}$/)
    expect(underscore).toBe('sentra-shop-1.0_a')
    expect(plus).not.toBe(underscore)
  })

  it('gives the container PORT, then the spec env with {{version}} and {{port}} filled in (the spec may set PORT)', () => {
    expect(containerEnv(spec('a:{{version}}', { APP_VERSION: '{{version}}', LISTEN: ':{{port}}' }), 'v2', 41000)).toEqual({ PORT: '41000', APP_VERSION: 'v2', LISTEN: ':41000' })
    expect(containerEnv(spec('a:{{version}}', { PORT: '{{port}}', HTTP_PORT: '{{port}}' }), 'v2', 41000)).toEqual({ PORT: '41000', HTTP_PORT: '41000' })
  })

  it('labels every container with application, version, role and port', () => {
    expect(containerLabels('shop', 'v2', 'canary', 41000)).toEqual({ 'sentra.application': 'shop', 'sentra.version': 'v2', 'sentra.role': 'canary', 'sentra.port': '41000' })
  })
})

describe('container log frames', () => {
  function frame(stream: number, text: string): Buffer {
    const body = Buffer.from(text)
    const header = Buffer.alloc(8)
    header[0] = stream
    header.writeUInt32BE(body.length, 4)
    return Buffer.concat([header, body])
  }

  it('joins stdout and stderr frames in order', () => {
    expect(demultiplex(Buffer.concat([frame(1, 'listening\n'), frame(2, 'fatal: boom\n')]))).toBe('listening\nfatal: boom\n')
  })

  it('returns unframed output (a TTY container) as it is, and ignores a cut last frame header', () => {
    expect(demultiplex(Buffer.from('plain text output\n'))).toBe('plain text output\n')
    expect(demultiplex(Buffer.concat([frame(1, 'ok\n'), Buffer.from([1, 0, 0])]))).toBe('ok\n')
  })
})
