// The whole stack over real HTTP (ResilientChat → OpenAiChatModel → openai SDK → FakeOpenAiServer) against
// models that continue a broken answer badly, reason for long, refuse or end with finish_reason "error":
// the consumer's text is the exact answer, every character once, or a typed failure.
import { assert, describe, it } from "@effect/vitest"
import { type ResiliencePolicy, ResilientChat, type StreamEvent } from "@steadystream/core"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as OpenAiChatModel from "../src/OpenAiChatModel.ts"
import * as FakeOpenAiServer from "../src/testing/FakeOpenAiServer.ts"
import * as FakeScenario from "../src/testing/FakeScenario.ts"
import { apiKey, request, text, words } from "./fixtures.ts"

const fast: ResiliencePolicy.ResiliencePolicy = {
  retry: { maxRetries: 3, baseDelay: "5 millis", maxDelay: "20 millis" },
  timeouts: { firstToken: "1 second", idle: "1 second", total: "10 seconds" },
  circuitBreaker: false
}

/** Streams one answer through ResilientChat over a fake server playing `options`. */
const answer = Effect.fnUntraced(function* (
  options: FakeOpenAiServer.Options,
  settings: {
    readonly policy?: ResiliencePolicy.ResiliencePolicy
    readonly dialect?: OpenAiChatModel.DialectOptions
  } = {}
) {
  const server = yield* FakeOpenAiServer.make({ apiKey, record: { limit: 50 }, ...options })
  const events: Array<StreamEvent.StreamEvent> = []
  const exit = yield* ResilientChat.ResilientChat.use((chat) =>
    chat.stream(request).pipe(Stream.runForEach((event) => Effect.sync(() => events.push(event))))
  ).pipe(
    Effect.provide(
      ResilientChat.layer(settings.policy ?? fast).pipe(
        Layer.provide(
          OpenAiChatModel.layer({ apiKey: Redacted.make(apiKey), baseURL: server.url, ...settings.dialect })
        )
      )
    ),
    Effect.provide(Logger.layer([])),
    Effect.exit
  )
  const delivered = events.map((event) => (event.type === "text-delta" ? event.delta : "")).join("")
  const retried = events.flatMap((event) => (event.type === "retrying" ? [event.error] : []))
  const requests = (yield* server.requests).filter((r) => r.call !== undefined)
  return { exit, events, delivered, retried, requests }
})

/** The first `n` chunks of `of` cut every 3 code points, as `chunkChars: 3` sends them. */
const chars = (n: number, of: string = text) =>
  Array.from(of)
    .slice(0, 3 * n)
    .join("")

describe("ResilientChat over models that continue badly", () => {
  it.live(
    "a continuation that restarts in other words is rejected, none of it shown; the next is verified",
    () =>
      Effect.gen(function* () {
        const run = yield* answer({
          steps: [FakeScenario.resetAfter(8), FakeScenario.restartsInOtherWords()]
        })
        assert.isTrue(Exit.isSuccess(run.exit))
        assert.strictEqual(run.delivered, text)
        assert.notInclude(run.delivered, "roughly 71%")
        assert.deepStrictEqual(
          run.retried.map((error) => error._tag),
          ["StreamTruncated", "ContinuationRejected"]
        )
        const rejected = run.retried[1]
        assert.strictEqual(rejected?._tag === "ContinuationRejected" && rejected.reason, "restarted")
        assert.strictEqual(run.requests.length, 3)
      })
  )

  it.live('a break inside a word continued from the whole word reads "seventy", not "sevseventy"', () =>
    Effect.gen(function* () {
      const run = yield* answer({
        steps: [FakeScenario.resetAfter(8, { chunkChars: 3 }), FakeScenario.repeatsCutWord({ chunkChars: 3 })]
      })
      assert.strictEqual(chars(8), "The sea covers about sev")
      assert.strictEqual(run.requests[1]?.continuedFrom, chars(8))
      assert.isTrue(Exit.isSuccess(run.exit))
      assert.strictEqual(run.delivered, text)
      assert.notInclude(run.delivered, "sevsev")
    })
  )

  it.live("a preamble about continuing never reaches the consumer", () =>
    Effect.gen(function* () {
      const run = yield* answer({ steps: [FakeScenario.resetAfter(6), FakeScenario.opensWithPreamble()] })
      assert.strictEqual(run.delivered, text)
      assert.notInclude(run.delivered, "Continuing")
      assert.strictEqual(run.requests.length, 2)
    })
  )

  it.live("a repeated last sentence and an echoed anchor (after a preamble too) are trimmed", () =>
    Effect.gen(function* () {
      for (const continuation of [
        FakeScenario.repeatsLastSentence(),
        FakeScenario.echoesAnchor(),
        FakeScenario.echoesAnchor({ preamble: "Of course. Resuming from where I stopped: " })
      ]) {
        const run = yield* answer({ steps: [FakeScenario.resetAfter(18), continuation] })
        assert.strictEqual(run.delivered, text)
        assert.strictEqual(run.requests.length, 2, "verified at the first continuation, no retry")
      }
    })
  )

  it.live("the anchor the model echoes is the one the instruction quotes", () =>
    Effect.gen(function* () {
      const run = yield* answer({ steps: [FakeScenario.resetAfter(10), FakeScenario.echoesAnchor()] })
      assert.strictEqual(run.delivered, text)
      const messages = (run.requests[1]!.body as { messages: Array<{ role: string; content: string }> })
        .messages
      const delivered = messages.at(-1)!.content
      const instruction = messages.find((message) => message.role === "system")!.content
      const quoted = [...instruction.matchAll(/"(?:[^"\\]|\\.)*"/g)].map((m) => JSON.parse(m[0]) as string)
      const anchor = quoted.find((value) => value.length > 0 && delivered.endsWith(value))
      assert.isDefined(anchor, instruction)
      assert.isAtLeast(anchor!.length, 20)
    })
  )

  it.live("a restart with the same words (a replay) is trimmed to its remainder", () =>
    Effect.gen(function* () {
      const run = yield* answer({ steps: [FakeScenario.resetAfter(12), FakeScenario.replaysFromStart()] })
      assert.strictEqual(run.delivered, text)
      assert.strictEqual(run.requests.length, 2)
    })
  )

  it.live(
    "restarting on every continuation ends in a typed failure, having shown only the verified text",
    () =>
      Effect.gen(function* () {
        const run = yield* answer({
          steps: [FakeScenario.resetAfter(8)],
          fallback: FakeScenario.restartsInOtherWords()
        })
        assert.isTrue(Exit.isFailure(run.exit))
        const error = Exit.isFailure(run.exit) ? run.exit.cause.reasons[0] : undefined
        assert.strictEqual(error?._tag === "Fail" ? error.error._tag : undefined, "ContinuationRejected")
        assert.strictEqual(run.delivered, words(8))
      })
  )
})

describe("ResilientChat over the wire real servers speak", () => {
  it.live('finish_reason "error" mid-answer is retried, and the answer continues exactly', () =>
    Effect.gen(function* () {
      const run = yield* answer({ steps: [FakeScenario.finishErrorAfter(6)] })
      assert.strictEqual(run.delivered, text)
      assert.deepStrictEqual(
        run.retried.map((error) => error._tag),
        ["ServerError"]
      )
      assert.strictEqual(run.events.filter((event) => event.type === "finish").length, 1)
    })
  )

  it.live("a refusal ends the call with ContentFiltered carrying the refusal; nothing is retried", () =>
    Effect.gen(function* () {
      const run = yield* answer({ steps: [], fallback: FakeScenario.refuses() })
      assert.strictEqual(run.delivered, "")
      assert.deepStrictEqual(run.retried, [])
      const reason = Exit.isFailure(run.exit) ? run.exit.cause.reasons[0] : undefined
      const error = reason?._tag === "Fail" ? reason.error : undefined
      assert.strictEqual(error?._tag, "ContentFiltered")
      assert.strictEqual(error?._tag === "ContentFiltered" && error.refusal, FakeScenario.refusalText)
      assert.strictEqual(run.requests.length, 1)
    })
  )

  it.live("reasoning 3× longer than the idle timeout is liveness, not a stall: no retry, text exact", () =>
    Effect.gen(function* () {
      const idle = 100
      const run = yield* answer(
        { steps: [FakeScenario.reasoningFirst({ delay: "12 millis" })] },
        {
          policy: {
            ...fast,
            timeouts: { firstToken: `${idle} millis`, idle: `${idle} millis`, total: "10 seconds" }
          }
        }
      )
      const reasoning = run.events.filter((event) => event.type === "reasoning-delta")
      // ~25 pieces 12 ms apart: about 300 ms of reasoning, with a first-token and idle deadline of 100 ms.
      assert.isAtLeast(reasoning.length * 12, 3 * idle)
      assert.strictEqual(reasoning.map((event) => event.delta).join(""), FakeScenario.reasoningText)
      assert.deepStrictEqual(run.retried, [])
      assert.strictEqual(run.delivered, text)
      assert.strictEqual(run.requests.length, 1)
    })
  )

  it.live("Azure and OpenRouter shapes through a break: the answer is exact", () =>
    Effect.gen(function* () {
      const azure = yield* answer({
        steps: [FakeScenario.resetAfter(6, { shape: "azure" })],
        fallback: FakeScenario.answer({ shape: "azure" })
      })
      assert.strictEqual(azure.delivered, text)
      const openRouter = yield* answer(FakeScenario.fromName("openrouter")!)
      assert.strictEqual(openRouter.delivered, text)
      assert.deepStrictEqual(
        openRouter.retried.map((error) => error._tag),
        ["ServerError"]
      )
    })
  )
})

describe("ResilientChat over servers that continue natively", () => {
  for (const [dialect, field] of [
    ["continue-final-message", "continue_final_message"],
    ["prefix", "prefix"]
  ] as const) {
    it.live(`${dialect}: the continuation is asked for natively, without an instruction, and is exact`, () =>
      Effect.gen(function* () {
        const run = yield* answer(
          { steps: [FakeScenario.resetAfter(6), FakeScenario.continuesNatively(field)] },
          { dialect: { continuation: dialect } }
        )
        assert.strictEqual(run.delivered, text)
        assert.strictEqual(run.requests.length, 2)
        const body = run.requests[1]?.body as { messages: Array<Record<string, unknown>> } & Record<
          string,
          unknown
        >
        assert.isFalse(body.messages.some((message) => message.role === "system"))
        if (field === "prefix") assert.strictEqual(body.messages.at(-1)?.prefix, true)
        else assert.include(body, { continue_final_message: true, add_generation_prompt: false })
      })
    )
  }

  it.live("a native server asked by instruction starts over: rejected, then a verified continuation", () =>
    Effect.gen(function* () {
      const run = yield* answer(FakeScenario.fromName("native")!)
      assert.strictEqual(run.delivered, text)
      assert.deepStrictEqual(
        run.retried.map((error) => error._tag),
        ["StreamTruncated", "ContinuationRejected"]
      )
    })
  )
})
