import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as ChatError from "../src/ChatError.ts"
import * as ChatRequest from "../src/ChatRequest.ts"
import * as ResilientChat from "../src/ResilientChat.ts"
import type * as StreamEvent from "../src/StreamEvent.ts"
import * as ScriptedChatModel from "../src/testing/ScriptedChatModel.ts"

const answer =
  "The quick brown fox jumps over the lazy dog while a patient heron watches from the reeds. " +
  "Clouds gather above distant hills, and somewhere a kettle begins to whistle for afternoon tea. " +
  "Children race bicycles down the lane, shouting names of imaginary kingdoms they will rule someday. " +
  "By evening the harbour lights flicker on, one after another, and fishing boats drift home slowly."
const request: ChatRequest.ChatRequest = { model: "m", messages: [{ role: "user", content: "hi" }] }

describe("ResilientChat: the final StreamTruncated", () => {
  it.effect("carries all the delivered text, not only the last continuation's part", () =>
    Effect.gen(function* () {
      // Every call delivers 100 more characters of the remainder (enough to verify a continuation),
      // then breaks, reporting (as adapters do) only what it delivered itself.
      const script: ScriptedChatModel.Script = (call) => {
        const prefix = ChatRequest.assistantPrefix(call.request) ?? ""
        const part = answer.slice(prefix.length, prefix.length + 100)
        const cut = new ChatError.StreamTruncated({
          provider: "scripted",
          model: "m",
          message: "connection reset",
          delivered: part
        })
        return ScriptedChatModel.stream(ScriptedChatModel.textEvents(part, { chunkSize: 50 }), {
          failAt: { index: 2, error: cut }
        })
      }
      const layer = ResilientChat.layer({
        retry: { maxRetries: 2, jitter: false },
        fallback: [],
        circuitBreaker: false
      }).pipe(Layer.provideMerge(ScriptedChatModel.layer({ script })))
      const exit = yield* Effect.gen(function* () {
        const chat = yield* ResilientChat.ResilientChat
        const events: Array<StreamEvent.StreamEvent> = []
        const fiber = yield* chat.stream(request).pipe(
          Stream.runForEach((event) => Effect.sync(() => events.push(event))),
          Effect.exit,
          Effect.forkChild
        )
        yield* TestClock.adjust("1 minute")
        return { exit: yield* Fiber.join(fiber), events }
      }).pipe(Effect.provide(Layer.merge(layer, Logger.layer([]))))
      const received = exit.events.flatMap((e) => (e.type === "text-delta" ? [e.delta] : [])).join("")
      assert.strictEqual(received, answer.slice(0, 300))
      assert.isTrue(Exit.isFailure(exit.exit))
      if (Exit.isFailure(exit.exit)) {
        const error = exit.exit.cause.reasons.find((r) => r._tag === "Fail")?.error
        assert.strictEqual(error?._tag, "StreamTruncated")
        if (error?._tag === "StreamTruncated") assert.strictEqual(error.delivered, received)
      }
    })
  )
})

describe("ResilientChat.stream with delivered text", () => {
  it.effect("finishes an answer another process began: a verified continuation, only the rest emitted", () =>
    Effect.gen(function* () {
      const delivered = answer.slice(0, 120)
      // The model repeats the last 10 delivered characters before going on, as models often do.
      const script: ScriptedChatModel.Script = (call) => {
        const prefix = ChatRequest.assistantPrefix(call.request) ?? ""
        return ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer.slice(prefix.length - 10)))
      }
      const events = yield* Effect.gen(function* () {
        const chat = yield* ResilientChat.ResilientChat
        const fiber = yield* Effect.forkChild(Stream.runCollect(chat.stream(request, { delivered })))
        yield* TestClock.adjust("1 minute")
        return yield* Fiber.join(fiber)
      }).pipe(
        Effect.provide(ResilientChat.layer().pipe(Layer.provideMerge(ScriptedChatModel.layer({ script }))))
      )
      const rest = events.flatMap((e) => (e.type === "text-delta" ? [e.delta] : [])).join("")
      assert.strictEqual(delivered + rest, answer)
      assert.strictEqual(events.at(-1)?.type, "finish")
    })
  )
})
