/**
 * A minimal OpenAI-compatible SSE server for the benchmarks where the fake
 * server's own per-chunk cost would dominate: each answer is pre-encoded, so
 * the server spends its time in the kernel, not in JavaScript.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { ChatRequest } from "@steadystream/core"

const frame = (data: string): string => `data: ${data}\n\n`

// One `chat.completion.chunk` frame with the given choices and extra fields.
const completionChunk = (fields: object): string =>
  frame(
    JSON.stringify({
      id: "chatcmpl-bench",
      object: "chat.completion.chunk",
      created: 1_700_000_000,
      model: "gpt-fake",
      ...fields
    })
  )

const chunk = (delta: object, finish: string | null): string =>
  completionChunk({ choices: [{ index: 0, delta, finish_reason: finish }] })

const usage = (n: number): string =>
  completionChunk({ choices: [], usage: { prompt_tokens: 4, completion_tokens: n, total_tokens: n + 4 } })

/** The opening frame (role, empty content). */
export const head = chunk({ role: "assistant", content: "" }, null)

/** One content frame. */
export const content = (text: string): string => chunk({ content: text }, null)

/** The closing frames: finish reason, usage, `[DONE]`. */
export const tail = (n: number): string => chunk({}, "stop") + usage(n) + frame("[DONE]")

/** A whole answer made of `pieces`, as one buffer. */
export const answer = (pieces: ReadonlyArray<string>): Buffer =>
  Buffer.from(head + pieces.map(content).join("") + tail(pieces.length))

export const sseHeaders = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive"
}

/** The text a continuation request asks to continue from (`ChatRequest.assistantPrefix`), if any. */
export const prefixOf = (body: string): string | undefined => {
  try {
    const { messages } = JSON.parse(body) as { messages?: unknown }
    const prefix = Array.isArray(messages) ? ChatRequest.assistantPrefix({ messages }) : undefined
    return typeof prefix === "string" ? prefix : undefined
  } catch {
    return undefined
  }
}

export interface Server {
  readonly url: string
  readonly server: Http.Server
  readonly close: () => Promise<void>
}

/** Starts a server; `handle` receives the request and its body. */
export const serve = (
  handle: (req: Http.IncomingMessage, res: Http.ServerResponse, body: string) => void
): Promise<Server> =>
  new Promise((resolve) => {
    const server = Http.createServer({ noDelay: true, keepAliveTimeout: 60_000 }, (req, res) => {
      const parts: Array<Buffer> = []
      req.on("data", (part: Buffer) => parts.push(part))
      req.on("end", () => handle(req, res, Buffer.concat(parts).toString("utf8")))
    })
    server.maxConnections = 100_000
    // The longest accept queue the kernel allows (it caps `backlog` at net.core.somaxconn): with
    // Node's default of 511, 10,000 concurrent connects overflow it and the dropped handshakes wait
    // for TCP retransmits (a second or more), which would be timed as the client's.
    server.listen({ port: 0, host: "127.0.0.1", backlog: 65_535 }, () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}/v1`,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })

/** Writes `body` in large pieces, respecting backpressure, then ends. */
export const writeAll = (res: Http.ServerResponse, body: Buffer, piece = 64 * 1024): void => {
  let offset = 0
  const pump = () => {
    while (offset < body.length) {
      const end = Math.min(body.length, offset + piece)
      const ok = res.write(body.subarray(offset, end))
      offset = end
      if (!ok) {
        res.once("drain", pump)
        return
      }
    }
    res.end()
  }
  pump()
}
