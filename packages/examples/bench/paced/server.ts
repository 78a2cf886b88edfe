/**
 * Child process of the paced benchmark: an OpenAI-compatible server that
 * writes tokens as a model does, one SSE frame per write, one token per
 * stream per tick, so each token leaves in its own packet. It runs in its own
 * process so that none of its CPU is counted as the client's.
 *
 * A request's path says how it is paced (`wire.ts`). Tells its parent
 * `{ type: "listening", origin }`; on `{ type: "release" }` starts every
 * held stream.
 */
import type * as Http from "node:http"
import * as Sse from "../sse.ts"
import * as Wire from "./wire.ts"

interface Open {
  readonly res: Http.ServerResponse
  readonly pacing: Wire.Pacing
  sent: number
}

/** Streams that get their next token on the same tick, by gap. */
const tickers = new Map<number, { readonly open: Set<Open>; scheduled: boolean }>()

const tick = (gapMillis: number) => {
  const ticker = tickers.get(gapMillis)!
  ticker.scheduled = false
  for (const stream of ticker.open) {
    if (stream.sent < stream.pacing.tokens) {
      stream.res.write(Sse.content(Wire.token(stream.sent++)))
    } else {
      ticker.open.delete(stream)
      stream.res.end(Sse.tail(stream.pacing.tokens))
    }
  }
  schedule(gapMillis)
}

const schedule = (gapMillis: number) => {
  const ticker = tickers.get(gapMillis)!
  if (ticker.scheduled || ticker.open.size === 0) return
  ticker.scheduled = true
  if (gapMillis === 0) setImmediate(tick, gapMillis)
  else setTimeout(tick, gapMillis, gapMillis)
}

const start = (stream: Open) => {
  const gap = stream.pacing.gapMillis
  if (!tickers.has(gap)) tickers.set(gap, { open: new Set(), scheduled: false })
  tickers.get(gap)!.open.add(stream)
  stream.res.once("close", () => tickers.get(gap)!.open.delete(stream))
  schedule(gap)
}

const held: Array<Open> = []

const server = await Sse.serve((req, res) => {
  const pacing = Wire.parse(req.url ?? "")
  if (pacing === undefined) {
    res.writeHead(404).end()
    return
  }
  res.writeHead(200, Sse.sseHeaders)
  const stream: Open = { res, pacing, sent: 0 }
  if (pacing.hold) {
    res.write(Sse.head + Sse.content(Wire.token(stream.sent++)))
    held.push(stream)
  } else {
    res.write(Sse.head)
    start(stream)
  }
})

process.on("message", (message: { readonly type: string }) => {
  if (message.type === "release") for (const stream of held.splice(0)) start(stream)
})
process.on("disconnect", () => {
  void server.close().then(() => process.exit(0))
})
process.send?.({ type: "listening", origin: server.url.replace(/\/v1$/, "") })
