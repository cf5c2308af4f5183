import { CliError } from './errors.ts'

/** Reads stdin to its end, refusing more than `maxBytes` (it stops reading at once). */
export async function readStdin(stream: NodeJS.ReadableStream, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    total += buffer.length
    if (total > maxBytes) throw new CliError(`${what} from stdin is larger than ${maxBytes} bytes; refused`)
    chunks.push(buffer)
  }
  return Buffer.concat(chunks)
}
