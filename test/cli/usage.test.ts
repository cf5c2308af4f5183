import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { freePort, quickSpec } from '../support/rollouts.ts'
import { runCli, runMain, tempHome } from './run-cli.ts'

const ID = 'Um9sbG91dDowMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDA='

/**
 * Bad command lines exit 2 with the usage text and send nothing: every case runs against
 * a server that counts the requests it gets, and it must get none.
 */
const USAGE_ERRORS: [string[], RegExp][] = [
  [[], /^sentra: no command given\n\nsentra: roll out/],
  [['frobnicate'], /^sentra: unknown command "frobnicate"\n/],
  [['help', 'frobnicate'], /^sentra: unknown command "frobnicate"\n/],
  [['rollouts', '--bogus'], /^sentra: unknown flag --bogus for `sentra rollouts`\n\nusage: sentra rollouts /],
  [['rollouts', '-x'], /^sentra: unknown flag -x for `sentra rollouts`/],
  [['rollouts', 'extra'], /^sentra: unexpected argument "extra"/],
  [['rollouts', '--output', 'xml'], /^sentra: --output must be table or json, not "xml"\n\nusage: sentra rollouts/],
  [['apps', '-o'], /^sentra: --output needs a value \(table\|json\)/],
  [['rollouts', '--status', 'BOGUS'], /^sentra: --status: "BOGUS" is not a rollout status; use one or more of PENDING,PROGRESSING,/],
  [['rollouts', '--status', 'paused,,nope'], /^sentra: --status: \(empty\), "NOPE" is not a rollout status/],
  [['rollouts', '--status', '--app', 'shop'], /^sentra: --status needs a value \(S,...\); for a value starting with "-", write --status=VALUE/],
  [['rollouts', '--app', 'Shop_1'], /^sentra: --app must be lowercase|^sentra: --app may only contain/],
  [['rollouts', '--limit', '0'], /^sentra: --limit must be a whole number from 1 to 1000, not "0"/],
  [['apps', '--limit', '12abc'], /^sentra: --limit must be a whole number from 1 to 1000, not "12abc"/],
  [['get'], /^sentra: missing <rollout-id>\n\nusage: sentra get <rollout-id>/],
  [['get', ID, 'again'], /^sentra: unexpected argument "again"/],
  [['start', 'shop'], /^sentra: missing <version>/],
  [['start', 'shop', 'v1', '--full'], /^sentra: unknown flag --full for `sentra start`/],
  [['watch'], /^sentra: missing <rollout-id>/],
  [['pause', ID, '--reason', ''], /^sentra: --reason must not be empty/],
  [['pause', ID, '--reason', '   '], /^sentra: --reason must not be empty/],
  [['abort', ID, `--reason=${'x'.repeat(1001)}`], /^sentra: --reason must be at most 1000 characters \(got 1001\)/],
  [['rollback', ID, '--reason', 'a', '--reason', 'b'], /^sentra: --reason is given more than once/],
  [['pause', ID, '--full'], /^sentra: unknown flag --full for `sentra pause`/],
  [['resume', ID, '--reason', 'why'], /^sentra: unknown flag --reason for `sentra resume`/],
  [['promote', ID, '--reason', 'why'], /^sentra: unknown flag --reason for `sentra promote`/],
  [['promote', ID, '--full=yes'], /^sentra: --full takes no value/],
  [['promote'], /^sentra: missing <rollout-id>/],
  [['apply'], /^sentra: missing -f FILE/],
  [['apply', '-f'], /^sentra: --file needs a value \(FILE\)/],
  [['apply', '-f', 'app.yaml', '--dry-run', '--skip-local-validation'], /^sentra: --dry-run and --skip-local-validation cannot be combined/],
  [['apply', 'app.yaml'], /^sentra: unexpected argument "app.yaml"/],
  [['login'], /^sentra: missing <url>/],
  [['login', 'http://127.0.0.1:4000'], /^sentra: missing --token/],
  [['login', 'ftp://127.0.0.1', '--token', 'abc'], /^sentra: <url>: "ftp:\/\/127.0.0.1" must be an http:\/\/ or https:\/\/ URL/],
  [['login', 'not a url', '--token', 'abc'], /^sentra: <url>: "not a url" is not a URL/],
  [['login', 'http://user:pw@127.0.0.1', '--token', 'abc'], /^sentra: <url>: the URL must not carry a user name or password/],
  [['login', 'http://127.0.0.1:4000', '--token', 'has space'], /^sentra: --token may contain only printable ASCII characters without spaces/],
  [['login', 'http://127.0.0.1:4000', '--token', 'x'.repeat(300)], /^sentra: --token is longer than 256 characters/],
]

describe('sentra CLI: bad command lines and unreachable servers', () => {
  let server: Server
  let requests = 0
  let url: string
  let home: { home: string; dispose(): Promise<void> }

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++
      res.writeHead(404, { 'content-type': 'text/html' })
      res.end('<html><body>Not Found</body></html>')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    home = await tempHome()
  })
  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()))
    await home?.dispose()
  })

  it('rejects every bad command line with exit 2 and usage text, before any request', async () => {
    const env = { HOME: home.home, SENTRA_URL: url, SENTRA_TOKEN: 'sentra_counted_token' }
    for (const [args, expected] of USAGE_ERRORS) {
      const { code, stdout, stderr } = await runMain(args, { env })
      expect({ args, code, stdout }).toEqual({ args, code: 2, stdout: '' })
      expect(stderr, `sentra ${args.join(' ')}`).toMatch(expected)
      expect(stderr, `sentra ${args.join(' ')}`).toMatch(/usage: sentra/)
    }
    expect(requests).toBe(0)
  })

  it('exits 2 as a process too, with nothing sent', async () => {
    const env = { HOME: home.home, SENTRA_URL: url, SENTRA_TOKEN: 'sentra_counted_token' }
    const cases: [string[], RegExp][] = [
      [['rollouts', '--output', 'xml'], /^sentra: --output must be table or json, not "xml"\n/],
      [['rollouts', '--status', 'BOGUS'], /^sentra: --status: "BOGUS" is not a rollout status/],
    ]
    const results = await Promise.all(cases.map(([args]) => runCli(args, { env })))
    results.forEach((result, i) => {
      expect(result).toMatchObject({ code: 2, stdout: '' })
      expect(result.stderr).toMatch(cases[i]![1])
    })
    expect(requests).toBe(0)
  })

  it('prints help on stdout with exit 0', async () => {
    const [overview, command, helpCommand] = await Promise.all([runCli(['--help']), runCli(['pause', '--help']), runMain(['help', 'watch'])])
    expect(overview).toMatchObject({ code: 0, stderr: '' })
    for (const name of ['login', 'apply', 'apps', 'rollouts', 'get', 'start', 'promote', 'pause', 'resume', 'rollback', 'abort', 'watch']) {
      expect(overview.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'))
    }
    expect(command).toMatchObject({ code: 0, stderr: '' })
    expect(command.stdout).toMatch(/^usage: sentra pause <rollout-id> \[--reason R\]\n/)
    expect(command.stdout).toMatch(/^ {2}-o, --output table\|json +output format/m)
    expect(helpCommand.stdout).toMatch(/^usage: sentra watch <rollout-id>\n/)
  })

  it('says how to log in when there is no login, and names a bad SENTRA_URL (exit 2, nothing sent)', async () => {
    const [none, badUrl, badToken, onlyUrl] = await Promise.all([
      runCli(['apps'], { env: { HOME: home.home } }),
      runMain(['apps'], { env: { HOME: home.home, SENTRA_URL: 'localhost:4000', SENTRA_TOKEN: 'abc' } }),
      runMain(['apps'], { env: { HOME: home.home, SENTRA_URL: url, SENTRA_TOKEN: 'two words' } }),
      runMain(['apps'], { env: { HOME: home.home, SENTRA_URL: url } }),
    ])
    expect(none).toMatchObject({ code: 2, stdout: '', stderr: 'sentra: not logged in: run `sentra login <url> --token <token>`, or set SENTRA_URL and SENTRA_TOKEN\n' })
    expect(badUrl).toMatchObject({ code: 2, stderr: 'sentra: SENTRA_URL: "localhost:4000" must be an http:// or https:// URL\n' })
    expect(badToken).toMatchObject({ code: 2, stderr: 'sentra: SENTRA_TOKEN may contain only printable ASCII characters without spaces\n' })
    expect(onlyUrl).toMatchObject({ code: 2, stderr: expect.stringMatching(/^sentra: not logged in/) })
    expect(requests).toBe(0)
  })

  describe('hostile spec files: refused before anything is sent', () => {
    let dir: string
    const file = async (name: string, content: string | Buffer) => {
      const path = join(dir, name)
      await writeFile(path, content)
      return path
    }
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sentra-cli-hostile-'))
    })
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true })
    })
    const env = () => ({ HOME: home.home, SENTRA_URL: url, SENTRA_TOKEN: 'sentra_counted_token' })

    it('refuses a file over 1 MiB without reading it, and a YAML bomb, as a process', async () => {
      const big = await file('big.yaml', Buffer.alloc(2 << 20, 'a'))
      const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
      for (const [i, name] of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].entries()) {
        laughs.push(`${name}: &${name} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`)
      }
      const bomb = await file('bomb.yaml', laughs.join('\n'))
      const [oversized, exploded] = await Promise.all([runCli(['apply', '-f', big], { env: env() }), runCli(['apply', '-f', bomb], { env: env() })])
      expect(oversized).toMatchObject({ code: 1, stdout: '', stderr: `sentra: ${big} is 2.0 MiB; an application spec may be at most 1 MiB. Refused without reading it\n` })
      expect(exploded).toMatchObject({ code: 1, stdout: '' })
      expect(exploded.stderr).toMatch(/^sentra: .*bomb\.yaml: invalid application spec \(1 problem\); nothing was sent\n {2}\(spec\): .*aliases/)
      expect(requests).toBe(0)
    })

    it('refuses a file that lies about its size, too much stdin, a missing file, a directory, non-UTF-8 bytes, spec-limit text', async () => {
      const cases: [string[], string | Buffer | undefined, RegExp][] = [
        [['apply', '-f', '/dev/zero'], undefined, /^sentra: \/dev\/zero is larger than 1 MiB; an application spec may be at most 1 MiB/],
        [['apply', '-f', '-'], Buffer.alloc((1 << 20) + 10, 'a'), /^sentra: the spec on stdin is larger than 1 MiB/],
        [['apply', '-f', join(dir, 'nope.yaml')], undefined, /^sentra: cannot read .*nope\.yaml: no such file\n$/],
        [['apply', '-f', dir], undefined, /^sentra: .* is a directory, not a spec file\n$/],
        [['apply', '-f', await file('bin.yaml', Buffer.from([0x6e, 0x61, 0xff, 0xfe]))], undefined, /^sentra: .*bin\.yaml is not UTF-8 text\n$/],
        [['apply', '-f', await file('large.yaml', `name: x\n#${'a'.repeat(300 * 1024)}\n`)], undefined, /invalid application spec \(1 problem\)[^]*KiB/],
        [['apply', '-f', await file('list.yaml', '- 1\n- 2\n')], undefined, /\(spec\): must be a mapping/],
        [['apply', '-f', await file('proto.json', '{"__proto__": {"x": 1}, "name": "x"}')], undefined, /__proto__: is a reserved name/],
      ]
      for (const [args, input, expected] of cases) {
        const result = await runMain(args, { env: env(), input })
        expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 1, stdout: '' })
        expect(result.stderr, args.join(' ')).toMatch(expected)
      }
      expect(requests).toBe(0)
    })

    it('--dry-run validates without a login or a request', async () => {
      const path = await file('dry.yaml', stringify(quickSpec('dry', 18096)))
      const [table, json] = await Promise.all([
        runCli(['apply', '-f', path, '--dry-run'], { env: { HOME: home.home } }),
        runMain(['apply', '-f', path, '--dry-run', '-o', 'json'], { env: { HOME: home.home } }),
      ])
      expect(table).toMatchObject({ code: 0, stdout: `${path}: valid application spec (dry); nothing sent (--dry-run)\n` })
      expect(JSON.parse(json.stdout)).toEqual({ file: path, valid: true, name: 'dry' })
      expect(requests).toBe(0)
    })
  })

  it('names the URL it could not reach (exit 3), and a server that is not Sentra', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`
    const [refused, watch, notSentra] = await Promise.all([
      runCli(['rollouts'], { env: { HOME: home.home, SENTRA_URL: closed, SENTRA_TOKEN: 'abc' } }),
      runCli(['watch', ID], { env: { HOME: home.home, SENTRA_URL: `${closed}/graphql`, SENTRA_TOKEN: 'abc' } }),
      runMain(['apps'], { env: { HOME: home.home, SENTRA_URL: url, SENTRA_TOKEN: 'abc' } }),
    ])
    expect(refused).toMatchObject({ code: 3, stdout: '', stderr: `sentra: cannot reach ${closed}/graphql: connect ECONNREFUSED ${closed.slice(7)}\n` })
    expect(watch).toMatchObject({ code: 3, stderr: `sentra: cannot reach ${closed}/graphql: connect ECONNREFUSED ${closed.slice(7)}\n` })
    expect(notSentra).toMatchObject({ code: 3, stderr: `sentra: cannot reach ${url}/graphql: HTTP 404, not a GraphQL answer: <html><body>Not Found</body></html>\n` })
    expect(requests).toBe(1)
  })
})
