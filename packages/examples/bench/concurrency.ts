/**
 * Concurrency: N streams at once, each client in its own child process (so
 * its memory is its own) against one server in this process. The server
 * sends every stream its first chunk and holds it open; once all N have
 * received text the child measures heap and RSS (after a GC), the server
 * releases them, and the child reports the wall time for all N.
 */
import { fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as Sse from "./sse.ts"

export interface ConcurrencyRun {
  readonly client: string
  readonly streams: number
  readonly wallMillis: number
  readonly heapPerStreamKb: number
  readonly rssPerStreamKb: number
}

const rest = Array.from({ length: 19 }, (_, i) => `w${i} `)
export const expectedChars = "first ".length + rest.join("").length

const worker = fileURLToPath(new URL("./concurrency-worker.ts", import.meta.url))

export const runOne = async (client: "raw" | "resilient", streams: number): Promise<ConcurrencyRun> => {
  const held: Array<import("node:http").ServerResponse> = []
  let released = false
  const release = (res: import("node:http").ServerResponse) =>
    res.end(rest.map(Sse.content).join("") + Sse.tail(20))
  const server = await Sse.serve((_req, res) => {
    res.writeHead(200, Sse.sseHeaders)
    res.write(Sse.head + Sse.content("first "))
    if (released) release(res)
    else held.push(res)
  })
  try {
    return await new Promise<ConcurrencyRun>((resolve, reject) => {
      const child = fork(worker, [client, String(streams), server.url], {
        execArgv: ["--expose-gc"],
        stdio: ["ignore", "inherit", "inherit", "ipc"]
      })
      child.on("message", (message: { type: string } & Record<string, number>) => {
        if (message.type === "peak") {
          released = true
          for (const res of held.splice(0)) release(res)
        } else if (message.type === "done") {
          resolve({
            client,
            streams,
            wallMillis: message.wallMillis!,
            heapPerStreamKb: message.heapPerStream! / 1024,
            rssPerStreamKb: message.rssPerStream! / 1024
          })
        }
      })
      child.on("exit", (code) => reject(new Error(`concurrency worker exited with ${code}`)))
      child.on("error", reject)
    })
  } finally {
    await server.close()
  }
}

export const run = async (sizes: ReadonlyArray<number>): Promise<ReadonlyArray<ConcurrencyRun>> => {
  const out: Array<ConcurrencyRun> = []
  for (const streams of sizes) {
    for (const client of ["raw", "resilient"] as const) out.push(await runOne(client, streams))
  }
  return out
}
