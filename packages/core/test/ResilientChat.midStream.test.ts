import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as ChatCompletion from "../src/ChatCompletion.ts"
import * as ChatError from "../src/ChatError.ts"
import * as ChatRequest from "../src/ChatRequest.ts"
import type * as ModelEvent from "../src/ModelEvent.ts"
import type * as ResiliencePolicy from "../src/ResiliencePolicy.ts"
import * as ResilientChat from "../src/ResilientChat.ts"
import type * as StreamEvent from "../src/StreamEvent.ts"
import * as ScriptedChatModel from "../src/testing/ScriptedChatModel.ts"

const request: ChatRequest.ChatRequest = { model: "m", messages: [{ role: "user", content: "hi" }] }
const answer = "Tides rise and fall twice a day, pulled by the moon and, less strongly, by the sun."
const reset = new ChatError.StreamTruncated({
  provider: "scripted",
  model: "m",
  message: "reset",
  delivered: ""
})

const run = (policy: ResiliencePolicy.ResiliencePolicy, script: ScriptedChatModel.Script) =>
  Effect.gen(function* () {
    const chat = yield* ResilientChat.ResilientChat
    const events: Array<StreamEvent.StreamEvent> = []
    const fiber = yield* chat.stream(request).pipe(
      Stream.runForEach((event) => Effect.sync(() => events.push(event))),
      Effect.exit,
      Effect.forkChild
    )
    for (let i = 0; i < 120 && fiber.pollUnsafe() === undefined; i++) yield* TestClock.adjust("1 second")
    const exit = yield* Fiber.join(fiber)
    const calls = yield* (yield* ScriptedChatModel.ScriptedChatModel).calls
    return { exit, events, calls }
  }).pipe(
    Effect.provide(
      ResilientChat.layer({ circuitBreaker: false, retry: { jitter: false }, ...policy }).pipe(
        Layer.provideMerge(ScriptedChatModel.layer({ script }))
      )
    ),
    Effect.provide(Logger.layer([]))
  )

const text = (events: ReadonlyArray<StreamEvent.StreamEvent>) =>
  events.flatMap((e) => (e.type === "text-delta" ? [e.delta] : [])).join("")

describe('ResilientChat midStream "restart"', () => {
  it.effect(
    "withdraws the partial answer with a restart event and streams a fresh one, not a continuation",
    () =>
      Effect.gen(function* () {
        const { exit, events, calls } = yield* run({ midStream: "restart" }, (call) =>
          call.index === 0
            ? ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer, { chunkSize: 10 }), {
                failAt: { index: 3, error: reset }
              })
            : ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer, { chunkSize: 10 }))
        )
        assert.strictEqual(exit._tag, "Success")
        const at = events.findIndex((e) => e.type === "restart")
        assert.isAbove(at, 0)
        assert.strictEqual(text(events.slice(0, at)), answer.slice(0, 30))
        assert.strictEqual(text(events.slice(at)), answer, "after the restart, the whole fresh answer once")
        const restart = events[at]
        assert.strictEqual(restart?.type === "restart" ? restart.error._tag : undefined, "StreamTruncated")
        assert.strictEqual(
          ChatRequest.assistantPrefix(calls[1]?.request as ChatRequest.ChatRequest),
          undefined
        )
        assert.strictEqual(ChatCompletion.fromEvents(events).text, answer, "a fold drops what was withdrawn")
      })
  )

  it.effect("a failure before any content is a plain retry: no restart event", () =>
    Effect.gen(function* () {
      const { events } = yield* run({ midStream: "restart" }, (call) =>
        call.index === 0
          ? ScriptedChatModel.fail(reset)
          : ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer))
      )
      assert.isFalse(events.some((e) => e.type === "restart"))
      assert.strictEqual(text(events), answer)
    })
  )
})

describe("ResilientChat reasoning", () => {
  const reasoning = (delta: string): ModelEvent.ModelEvent => ({ type: "reasoning-delta", delta })

  it.effect(
    "passes reasoning through as its own events, never into the text, and counts it as liveness",
    () =>
      Effect.gen(function* () {
        // 8 s of reasoning, one delta a second, with a first-token and idle deadline of 3 s.
        const events: Array<ModelEvent.ModelEvent> = [
          ...Array.from({ length: 8 }, (_, i) => reasoning(`step ${i}. `)),
          ...ScriptedChatModel.textEvents(answer)
        ]
        const result = yield* run({ timeouts: { firstToken: "3 seconds", idle: "3 seconds" } }, () =>
          ScriptedChatModel.stream(events, { delay: "1 second" })
        )
        assert.strictEqual(result.exit._tag, "Success")
        assert.strictEqual(result.calls.length, 1, "never treated as a stall")
        assert.strictEqual(text(result.events), answer)
        assert.strictEqual(
          result.events.flatMap((e) => (e.type === "reasoning-delta" ? [e.delta] : [])).join(""),
          Array.from({ length: 8 }, (_, i) => `step ${i}. `).join("")
        )
      })
  )
})

describe("ResilientChat continuation rejected", () => {
  it.effect("a continuation that restarts is never emitted: the next step's verified answer is", () =>
    Effect.gen(function* () {
      const restart = "Tides rise and fall because the moon pulls on the oceans, and the sun does too."
      const { exit, events } = yield* run({ retry: { maxRetries: 1, jitter: false } }, (call) => {
        if (call.index === 0) {
          return ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer, { chunkSize: 12 }), {
            failAt: { index: 3, error: reset }
          })
        }
        const prefix = ChatRequest.assistantPrefix(call.request) ?? ""
        // The streamed continuation restarts in other words; the non-streaming fallback continues.
        return call.kind === "stream"
          ? ScriptedChatModel.stream(ScriptedChatModel.textEvents(restart))
          : ScriptedChatModel.complete(answer.slice(prefix.length))
      })
      assert.strictEqual(exit._tag, "Success")
      assert.strictEqual(text(events), answer)
      const retrying = events.find((e) => e.type === "fallback")
      assert.strictEqual(
        retrying?.type === "fallback" ? retrying.error._tag : undefined,
        "ContinuationRejected"
      )
    })
  )
})
