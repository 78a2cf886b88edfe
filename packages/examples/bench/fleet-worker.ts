/**
 * One instance of the fleet benchmark (a child process): a `ResilientChat`
 * over the bench's model server, alone (`ResilientChat.layer`) or sharing
 * Redis (`layerRedis`). On "go" it waits its turn, runs its calls at once,
 * and reports how they went.
 *
 * Arguments: mode (`alone` | `shared`), model URL, Redis URL, calls.
 */
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import { ResilientChat } from "@steadystream/core"
import { OpenAiChatModel } from "@steadystream/openai-adapter"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"

const [mode, modelUrl, redisUrl, calls] = process.argv.slice(2)

export interface Report {
  readonly type: "done"
  readonly answered: number
  readonly failed: number
  readonly cooldowns: number
  readonly texts: ReadonlyArray<string>
}

const model = OpenAiChatModel.layer({ apiKey: Redacted.make("sk-bench"), baseURL: modelUrl ?? "" })
const policy = { retry: { jitter: false } }
const chat =
  mode === "shared"
    ? ResilientChat.layerRedis(policy, { prefix: `bench:${process.ppid}:` }).pipe(
        Layer.provide(NodeRedis.layer({ url: redisUrl ?? "", disableOfflineQueue: true }))
      )
    : ResilientChat.layer(policy)

const one = Effect.gen(function* () {
  const resilient = yield* ResilientChat.ResilientChat
  const events = yield* Stream.runCollect(
    resilient.stream({ model: "gpt-fake", messages: [{ role: "user", content: "hi" }] })
  )
  return {
    text: events.flatMap((e) => (e.type === "text-delta" ? [e.delta] : [])).join(""),
    cooldowns: events.filter((e) => e.type === "cooldown").length
  }
})

const program = Effect.gen(function* () {
  const offset = yield* Effect.callback<number>((resume) => {
    process.send?.({ type: "ready" })
    process.once("message", (message: { offset: number }) => resume(Effect.succeed(message.offset)))
  })
  yield* Effect.sleep(offset)
  const results = yield* Effect.forEach(Array.from({ length: Number(calls) }), () => Effect.result(one), {
    concurrency: "unbounded"
  })
  const ok = results.flatMap((r) => (r._tag === "Success" ? [r.success] : []))
  const report: Report = {
    type: "done",
    answered: ok.length,
    failed: results.length - ok.length,
    cooldowns: ok.reduce((n, r) => n + r.cooldowns, 0),
    texts: ok.map((r) => r.text)
  }
  yield* Effect.sync(() => process.send?.(report))
}).pipe(Effect.provide(chat.pipe(Layer.provide(model))), Effect.provide(Logger.layer([])))

Effect.runPromise(program).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
