/** Where a command writes and reads; the real process streams, or buffers in tests. */
export interface Io {
  /** Writes to stdout as is (callers end lines with "\n"). */
  out(text: string): void
  /** Writes to stderr as is. */
  err(text: string): void
  /** Whether stdout is a terminal (watch redraws its status line in place only then). */
  readonly isTTY: boolean
  /** The terminal's width in columns; 0 when stdout is not a terminal. */
  readonly columns: number
  readonly stdin: NodeJS.ReadableStream
}

/** The process's own streams. A closed pipe on stdout (`sentra rollouts | head`) is not an error. */
export function processIo(): Io {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw error
  })
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    isTTY: process.stdout.isTTY === true,
    get columns() {
      return process.stdout.isTTY ? process.stdout.columns : 0
    },
    stdin: process.stdin,
  }
}
