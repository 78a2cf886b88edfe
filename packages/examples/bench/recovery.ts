/**
 * Recovery latency: the server resets the connection after a few chunks and
 * answers the continuation at once; measured from the reset to the next
 * delivered text, minus the retry delay the `retrying` event announced.
 */
import { ResilientChat } from "@steadystream/core"
import { OpenAiChatModel } from "@steadystream/openai-adapter"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { benchKey } from "./clients.ts"
import * as Sse from "./sse.ts"
import { now, percentile } from "./stats.ts"

export interface RecoveryResult {
  readonly trials: number
  readonly retryDelayMillis: number
  /** Time from the reset to the next delivered text, minus the retry delay. */
  readonly overheadMillis: { readonly p50: number; readonly p99: number }
}

const words = Array.from({ length: 20 }, (_, i) => `word${i} `)
const full = words.join("")

export const run = async (options: { readonly trials: number }): Promise<RecoveryResult> => {
  let resetAt = 0
  const server = await Sse.serve((_req, res, body) => {
    const prefix = Sse.prefixOf(body)
    res.writeHead(200, Sse.sseHeaders)
    if (prefix === undefined) {
      res.write(Sse.head + words.slice(0, 5).map(Sse.content).join(""), () => {
        setTimeout(() => {
          resetAt = now()
          res.socket?.resetAndDestroy()
        }, 2)
      })
    } else {
      const rest = full.slice(prefix.length)
      res.end(Sse.head + Sse.content(rest) + Sse.tail(1))
    }
  })
  const delay = 10
  const runtime = ManagedRuntime.make(
    Layer.merge(
      ResilientChat.layer({
        retry: { baseDelay: `${delay} millis`, jitter: false },
        circuitBreaker: false
      }).pipe(Layer.provide(OpenAiChatModel.layer({ apiKey: Redacted.make(benchKey), baseURL: server.url }))),
      Logger.layer([])
    )
  )
  const samples: Array<number> = []
  try {
    for (let trial = 0; trial < options.trials + 5; trial++) {
      let announced = -1
      let recoveredAt = -1
      let text = ""
      await runtime.runPromise(
        Effect.gen(function* () {
          const chat = yield* ResilientChat.ResilientChat
          yield* chat.stream({ model: "gpt-fake", messages: [{ role: "user", content: "count" }] }).pipe(
            Stream.runForEach((event) =>
              Effect.sync(() => {
                if (event.type === "retrying") announced = Duration.toMillis(event.delay)
                else if (event.type === "text-delta") {
                  if (announced >= 0 && recoveredAt < 0) recoveredAt = now()
                  text += event.delta
                }
              })
            )
          )
        })
      )
      if (text !== full) throw new Error(`recovery bench: wrong text ${JSON.stringify(text)}`)
      if (trial >= 5) samples.push(recoveredAt - resetAt - announced) // the first 5 warm up
    }
  } finally {
    await runtime.dispose()
    await server.close()
  }
  return {
    trials: options.trials,
    retryDelayMillis: delay,
    overheadMillis: { p50: percentile(samples, 50), p99: percentile(samples, 99) }
  }
}
