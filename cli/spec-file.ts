import { open } from 'node:fs/promises'
import { CliError } from './errors.ts'
import { readStdin } from './stdin.ts'

/** Spec files larger than this are refused before they are read. */
export const MAX_SPEC_FILE_BYTES = 1 << 20

const mib = (bytes: number): string => `${(bytes / (1 << 20)).toFixed(1)} MiB`

function tooLarge(name: string, size: number | null): CliError {
  return new CliError(`${name} is ${size === null ? 'larger than 1 MiB' : mib(size)}; an application spec may be at most 1 MiB. Refused without reading it`)
}

/**
 * The text of a spec file (`-` is stdin): at most 1 MiB (checked on the size before
 * reading, and again while reading, for files that grow or lie such as /dev/zero), UTF-8.
 */
export async function readSpecFile(path: string, stdin: NodeJS.ReadableStream): Promise<string> {
  let bytes: Buffer
  if (path === '-') {
    try {
      bytes = await readStdin(stdin, MAX_SPEC_FILE_BYTES, 'the spec')
    } catch {
      throw tooLarge('the spec on stdin', null)
    }
  } else {
    let handle
    try {
      handle = await open(path, 'r')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message
      throw new CliError(`cannot read ${path}: ${why}`)
    }
    try {
      const info = await handle.stat()
      if (info.isDirectory()) throw new CliError(`${path} is a directory, not a spec file`)
      if (info.size > MAX_SPEC_FILE_BYTES) throw tooLarge(path, info.size)
      const buffer = Buffer.alloc(MAX_SPEC_FILE_BYTES + 1)
      let length = 0
      while (length < buffer.length) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null)
        if (bytesRead === 0) break
        length += bytesRead
      }
      if (length > MAX_SPEC_FILE_BYTES) throw tooLarge(path, null)
      bytes = buffer.subarray(0, length)
    } finally {
      await handle.close()
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new CliError(`${path === '-' ? 'the spec on stdin' : path} is not UTF-8 text`)
  }
}
