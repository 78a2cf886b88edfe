/**
 * True resume vs continuation. The same fault — the connection reset after 5
 * chunks of an answer dripping one chunk per `drip` ms — recovered by
 * `ResilientChat` over the Responses adapter (the background response resumed
 * with `starting_after`) and over the Chat Completions adapter (a
 * continuation request, verified before any of it is shown), both on the fake
 * server. Recovery latency runs from the `retrying` event to the next new
 * text, minus the announced retry delay; "generations" counts the answer
 * requests (POSTs) per answer. Then goodput under the goodput bench's mixed
 * faults, through the Responses adapter.
 */
import { type ResiliencePolicy, ResilientChat } from "@steadystream/core"
import { OpenAiChatModel, OpenAiResponsesModel } from "@steadystream/openai-adapter"
import { FakeOpenAiServer, FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Clients from "./clients.ts"
import { benchKey } from "./clients.ts"
import * as Goodput from "./goodput.ts"
import { now, percentile, round } from "./stats.ts"

interface Recovered {
  readonly p50: number
  readonly p99: number
  /** Answer requests (POSTs) per answer. */
  readonly generations: number
  /** Request to finish, p50. */
  readonly totalP50: number
}

export interface ResumeResult {
  readonly trials: number
  readonly dripMillis: number
  readonly byResume: Recovered
  readonly byContinuation: Recovered
  readonly goodput: Goodput.ClientGoodput
}

const policy: ResiliencePolicy.ResiliencePolicy = {
  retry: { baseDelay: "10 millis", jitter: false },
  circuitBreaker: false
}

const recover = (api: "responses" | "chat", trials: number, drip: number): Promise<Recovered> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const steps = Array.from({ length: trials }, () => [
          FakeScenario.resetAfter(5, { delay: `${drip} millis` }),
          FakeScenario.answer({ delay: `${drip} millis` })
        ]).flat()
        const server = yield* FakeOpenAiServer.make({ steps, record: { limit: 4 * trials } })
        const options = { apiKey: Redacted.make(benchKey), baseURL: server.url }
        const model =
          api === "responses" ? OpenAiResponsesModel.layer(options) : OpenAiChatModel.layer(options)
        const layer = Layer.merge(ResilientChat.layer(policy).pipe(Layer.provide(model)), Logger.layer([]))
        const latencies: Array<number> = []
        const totals: Array<number> = []
        yield* Effect.gen(function* () {
          const chat = yield* ResilientChat.ResilientChat
          for (let trial = 0; trial < trials; trial++) {
            const start = now()
            let retryingAt = -1
            let announced = 0
            let recoveredAt = -1
            let text = ""
            yield* chat.stream({ model: "gpt-fake", messages: [{ role: "user", content: "the sea" }] }).pipe(
              Stream.runForEach((event) =>
                Effect.sync(() => {
                  if (event.type === "retrying") {
                    retryingAt = now()
                    announced = Duration.toMillis(event.delay)
                  } else if (event.type === "text-delta") {
                    if (retryingAt >= 0 && recoveredAt < 0) recoveredAt = now()
                    text += event.delta
                  }
                })
              )
            )
            if (text !== FakeScenario.defaultText) throw new Error(`resume bench (${api}): wrong text`)
            latencies.push(recoveredAt - retryingAt - announced)
            totals.push(now() - start)
          }
        }).pipe(Effect.provide(layer))
        const posts = (yield* server.requests).filter(
          (r) => r.method === "POST" && (r.path === "/v1/responses" || r.path === "/v1/chat/completions")
        ).length
        return {
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          generations: posts / trials,
          totalP50: percentile(totals, 50)
        }
      })
    )
  )

const fast = {
  retry: { maxRetries: 3, baseDelay: "10 millis", maxDelay: "200 millis" },
  timeouts: { firstToken: "500 millis", idle: "300 millis", total: "20 seconds" }
} as const

export const run = async (options: {
  readonly trials: number
  readonly goodput: number
}): Promise<ResumeResult> => {
  const drip = 5
  const byResume = await recover("responses", options.trials, drip)
  const byContinuation = await recover("chat", options.trials, drip)
  const name = "ResilientChat (Responses, resume)"
  const goodput = await Goodput.run({
    requests: options.goodput,
    concurrency: 50,
    strategies: [[name, (url) => Clients.resilient(url, fast, "responses")]]
  })
  return {
    trials: options.trials,
    dripMillis: drip,
    byResume,
    byContinuation,
    goodput: goodput.byClient[name]!
  }
}

/** The targets this section sets. */
export const targets = (result: ResumeResult) => [
  {
    name: "True resume: one generation per answer, recovers faster than a continuation (p50)",
    measured: `${round(result.byResume.p50)} ms vs ${round(result.byContinuation.p50)} ms p50; ${round(result.byResume.generations)} vs ${round(result.byContinuation.generations)} generations`,
    met: result.byResume.generations === 1 && result.byResume.p50 < result.byContinuation.p50
  },
  {
    name: "Goodput through the Responses API ≥ 99.9% exact, 0 duplicated, 0 lost, 0 silently wrong",
    measured: `${round(result.goodput.exactPercent, 1)}% exact, ${result.goodput.duplicatedChars} dup, ${result.goodput.lostChars} lost, ${result.goodput.silentlyWrong} silently wrong`,
    met:
      result.goodput.exactPercent >= 99.9 &&
      result.goodput.duplicatedChars === 0 &&
      result.goodput.lostChars === 0 &&
      result.goodput.silentlyWrong === 0
  }
]

/** The section's lines in the report. */
export const report = (result: ResumeResult): Array<string> => [
  `True resume vs continuation (${result.trials} trials: reset after 5 chunks, ${result.dripMillis} ms per chunk; retry delay subtracted)`,
  "| recovery | p50 ms | p99 ms | request to finish p50 ms | generations per answer |",
  "| --- | --- | --- | --- | --- |",
  ...(
    [
      ["resume (Responses, starting_after)", result.byResume],
      ["continuation (Chat Completions)", result.byContinuation]
    ] as const
  ).map(
    ([name, r]) =>
      `| ${name} | ${round(r.p50)} | ${round(r.p99)} | ${round(r.totalP50)} | ${round(r.generations, 2)} |`
  ),
  "",
  "Goodput through the Responses API (same faults as above; resumes take steps too)",
  `| exact % | duplicated chars | lost chars | silently wrong | failed (typed) | seconds |`,
  "| --- | --- | --- | --- | --- | --- |",
  `| ${round(result.goodput.exactPercent, 1)} | ${result.goodput.duplicatedChars} | ${result.goodput.lostChars} | ${result.goodput.silentlyWrong} | ${result.goodput.failed} | ${round(result.goodput.seconds, 1)} |`
]
