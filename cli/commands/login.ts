import { createApi } from '../api.ts'
import { flagValue } from '../args.ts'
import type { Command } from '../command.ts'
import { configPath, saveLogin } from '../config.ts'
import { connectionFor, normalizeServerUrl, tokenProblem } from '../connection.ts'
import { EXIT, UsageError } from '../errors.ts'
import { clean, json } from '../format/text.ts'
import { ViewerQuery } from '../operations/viewer.ts'
import { readStdin } from '../stdin.ts'

export const login: Command = {
  name: 'login',
  summary: 'check a token against a Sentra server and save both',
  args: [{ name: 'url', description: 'the server, e.g. http://127.0.0.1:4000' }],
  flags: [{ name: 'token', value: 'TOKEN', description: 'an API token; "-" reads it from stdin (keeps it out of the process list)' }],
  examples: ['sentra login http://127.0.0.1:4000 --token sentra_…', 'printenv SENTRA_TOKEN | sentra login https://sentra.example.com --token -'],
  async run({ parsed, io, env, output }) {
    const url = normalizeServerUrl(parsed.positionals[0]!)
    if (!url.ok) throw new UsageError(`<url>: ${url.message}`, 'login')
    let token = flagValue(parsed, 'token')
    if (token === undefined) throw new UsageError('missing --token', 'login')
    if (token === '-') token = (await readStdin(io.stdin, 4096, 'the token')).toString('utf8').trim()
    const problem = tokenProblem(token)
    if (problem) throw new UsageError(`--token ${problem}`, 'login')

    const connection = connectionFor(url.url, token)
    const { viewer } = await createApi(connection).request(ViewerQuery, {})
    const path = await saveLogin(env, { url: url.url, token })
    if (output === 'json') {
      io.out(json({ url: url.url, name: viewer.name, scope: viewer.scope, config: path }))
    } else {
      io.out(`logged in to ${url.url} as ${clean(viewer.name)} (${viewer.scope.toLowerCase()}); saved to ${path}\n`)
    }
    for (const name of ['SENTRA_URL', 'SENTRA_TOKEN'] as const) {
      if (env[name]) io.err(`note: ${name} is set and overrides the saved ${name === 'SENTRA_URL' ? 'URL' : 'token'} (from ${configPath(env)})\n`)
    }
    return EXIT.ok
  },
}
