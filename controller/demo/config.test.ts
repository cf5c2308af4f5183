import { describe, expect, it } from 'vitest'
import { readDemoConfig } from './config.ts'

describe('readDemoConfig (SENTRA_DEMO_*)', () => {
  it('defaults to loopback, the default load and no export', () => {
    expect(readDemoConfig({})).toEqual({ host: '127.0.0.1', loadUrls: [], exportTo: null, rate: 100 })
  })

  it('reads the compose stack\'s settings', () => {
    expect(
      readDemoConfig({
        SENTRA_DEMO_HOST: '0.0.0.0',
        SENTRA_DEMO_LOAD_URLS: 'http://controller-1:4100/, http://controller-2:4100/',
        SENTRA_DEMO_OTLP_ENDPOINT: 'http://otel-collector:4318/',
        SENTRA_DEMO_RATE: '50',
      }),
    ).toEqual({ host: '0.0.0.0', loadUrls: ['http://controller-1:4100/', 'http://controller-2:4100/'], exportTo: 'http://otel-collector:4318', rate: 50 })
  })

  it.each([
    [{ SENTRA_DEMO_HOST: 'a b' }, /SENTRA_DEMO_HOST: "a b" is not a host/],
    [{ SENTRA_DEMO_HOST: 'x'.repeat(300) }, /SENTRA_DEMO_HOST/],
    [{ SENTRA_DEMO_LOAD_URLS: 'not a url' }, /SENTRA_DEMO_LOAD_URLS: "not a url" is not a URL/],
    [{ SENTRA_DEMO_LOAD_URLS: 'file:///etc/passwd' }, /is not an http\(s\) URL/],
    [{ SENTRA_DEMO_LOAD_URLS: 'http://user:secret@host:1/' }, /must not carry credentials/],
    [{ SENTRA_DEMO_LOAD_URLS: Array.from({ length: 17 }, (_, i) => `http://h${i}:1/`).join(',') }, /at most 16 URLs/],
    [{ SENTRA_DEMO_OTLP_ENDPOINT: 'ftp://collector' }, /SENTRA_DEMO_OTLP_ENDPOINT: .* is not an http\(s\) URL/],
    [{ SENTRA_DEMO_RATE: '0' }, /SENTRA_DEMO_RATE: "0" must be a whole number/],
    [{ SENTRA_DEMO_RATE: '1e3' }, /SENTRA_DEMO_RATE/],
    [{ SENTRA_DEMO_RATE: '5000' }, /from 1 to 1000/],
  ])('refuses %j with a clear message', (env, message) => {
    expect(() => readDemoConfig(env)).toThrow(message)
  })
})
