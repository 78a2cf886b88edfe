/**
 * Time to first token: many short requests, clients interleaved request by
 * request; p50 and p99 of the time from the call to the first text.
 */
import type { Client } from "./clients.ts"
import * as Sse from "./sse.ts"
import { now, percentile } from "./stats.ts"

export interface TtftResult {
  readonly requests: number
  /** By client name: p50 and p99 in milliseconds. */
  readonly millis: Record<string, { readonly p50: number; readonly p99: number }>
}

export const run = async (
  options: { readonly requests: number },
  makeClients: (baseURL: string) => ReadonlyArray<Client>
): Promise<TtftResult> => {
  const body = Sse.answer(["Hello", " there", ", fox", "."])
  const server = await Sse.serve((_req, res) => {
    res.writeHead(200, Sse.sseHeaders)
    res.end(body)
  })
  const clients = makeClients(server.url)
  const samples = new Map<string, Array<number>>(clients.map((client) => [client.name, []]))
  try {
    const once = async (client: Client) => {
      const start = now()
      let first = -1
      await client.run(() => {
        if (first < 0) first = now() - start
      })
      return first
    }
    for (let i = 0; i < 20; i++) for (const client of clients) await once(client) // warm-up
    for (let i = 0; i < options.requests; i++) {
      for (let j = 0; j < clients.length; j++) {
        const client = clients[(i + j) % clients.length]!
        samples.get(client.name)!.push(await once(client))
      }
    }
  } finally {
    await Promise.all(clients.map((client) => client.dispose()))
    await server.close()
  }
  return {
    requests: options.requests,
    millis: Object.fromEntries(
      [...samples].map(([name, values]) => [
        name,
        { p50: percentile(values, 50), p99: percentile(values, 99) }
      ])
    )
  }
}
