/**
 * Chunk throughput: one long stream of small chunks from a pre-encoded SSE
 * body, consumed to the end by each client in turn; several rounds, order
 * rotated each round, median chunks per second.
 */
import type { Client } from "./clients.ts"
import * as Sse from "./sse.ts"
import { median, now } from "./stats.ts"

export interface ThroughputResult {
  readonly chunks: number
  readonly rounds: number
  /** Median chunks per second, by client name. */
  readonly chunksPerSecond: Record<string, number>
}

export const run = async (
  options: { readonly chunks: number; readonly rounds: number },
  makeClients: (baseURL: string) => ReadonlyArray<Client>
): Promise<ThroughputResult> => {
  const piece = "tok "
  const body = Sse.answer(Array.from({ length: options.chunks }, () => piece))
  const expected = options.chunks * piece.length
  const server = await Sse.serve((_req, res) => {
    res.writeHead(200, Sse.sseHeaders)
    Sse.writeAll(res, body)
  })
  const clients = makeClients(server.url)
  const samples = new Map<string, Array<number>>(clients.map((client) => [client.name, []]))
  try {
    const once = async (client: Client) => {
      let received = 0
      const start = now()
      await client.run((text) => {
        received += text.length
      })
      const seconds = (now() - start) / 1000
      if (received !== expected) throw new Error(`${client.name}: received ${received} of ${expected} chars`)
      return options.chunks / seconds
    }
    for (const client of clients) await once(client) // warm-up
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < clients.length; i++) {
        const client = clients[(i + round) % clients.length]!
        samples.get(client.name)!.push(await once(client))
      }
    }
  } finally {
    await Promise.all(clients.map((client) => client.dispose()))
    await server.close()
  }
  return {
    chunks: options.chunks,
    rounds: options.rounds,
    chunksPerSecond: Object.fromEntries([...samples].map(([name, values]) => [name, median(values)]))
  }
}
