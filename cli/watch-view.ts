import type { OutputFormat } from './command.ts'
import { decisionLine, endLine, headerLine, statusLine } from './format/progress.ts'
import type { CliRolloutDetailFragment } from './gql/graphql.ts'
import type { Io } from './io.ts'
import { truncate } from './format/text.ts'

type Rollout = CliRolloutDetailFragment

/**
 * What `sentra watch` prints. As a table: a header, every decision once as it happens, and
 * a status line (redrawn in place on a terminal, printed when it changes otherwise). As
 * JSON: one line per new state of the rollout (NDJSON). Notes go to stderr.
 */
export interface WatchView {
  show(rollout: Rollout): void
  note(text: string): void
  end(rollout: Rollout): void
}

export function createWatchView(io: Io, output: OutputFormat): WatchView {
  let header = false
  let lastDecision = -1
  let lastStatus = ''
  let lastJson = ''
  let drawn = false
  const clearStatus = () => {
    if (drawn) io.out('\r\x1b[2K')
    drawn = false
  }
  const drawStatus = () => {
    if (!io.isTTY) return
    // One row only: a line wider than the terminal would wrap, and \r could not take it back.
    io.out(io.columns > 1 ? truncate(lastStatus, io.columns - 1) : lastStatus)
    drawn = true
  }

  return {
    show(rollout) {
      if (output === 'json') {
        const line = JSON.stringify(rollout)
        if (line !== lastJson) io.out(`${line}\n`)
        lastJson = line
        return
      }
      clearStatus()
      if (!header) io.out(`${headerLine(rollout)}\n`)
      header = true
      for (const decision of rollout.decisions) {
        if (decision.seq <= lastDecision) continue
        io.out(`${decisionLine(decision)}\n`)
        lastDecision = decision.seq
      }
      const status = statusLine(rollout)
      if (!io.isTTY && status !== lastStatus) io.out(`${status}\n`)
      lastStatus = status
      drawStatus()
    },
    note(text) {
      clearStatus()
      io.err(`${text}\n`)
      drawStatus()
    },
    end(rollout) {
      if (output === 'json') return
      clearStatus()
      if (io.isTTY) io.out(`${lastStatus}\n`)
      io.out(`${endLine(rollout)}\n`)
    },
  }
}
