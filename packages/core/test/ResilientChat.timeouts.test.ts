import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as ChatRequest from "../src/ChatRequest.ts"
import * as ResilientChat from "../src/ResilientChat.ts"
import type * as StreamEvent from "../src/StreamEvent.ts"
import * as ScriptedChatModel from "../src/testing/ScriptedChatModel.ts"

const request: ChatRequest.ChatRequest = { model: "m", messages: [{ role: "user", content: "hi" }] }

describe("ResilientChat timeouts", () => {
  // The idle deadline after the first chunk is earlier than the first-token deadline it replaces.
  it.effect(
    "an idle deadline shorter than the first-token one fires on time, not at the first-token one",
    () =>
      Effect.gen(function* () {
        const chat = yield* ResilientChat.ResilientChat
        const seen: Array<readonly [number, StreamEvent.StreamEvent["type"]]> = []
        let now = 0
        const fiber = yield* chat.stream(request).pipe(
          Stream.runForEach((event) => Effect.sync(() => seen.push([now, event.type]))),
          Effect.forkChild
        )
        yield* Effect.yieldNow
        while (now < 5_000) {
          now += 100 // events seen during this step happened by `now`
          yield* TestClock.adjust("100 millis")
        }
        yield* Fiber.join(fiber)
        // first chunk at 100 ms, then a stall: idle 1 s → retry at 1.1 s, 200 ms backoff, the continuation
        // (100 ms per event) delivers the rest, held until its finish verifies it (a short continuation)
        assert.deepStrictEqual(
          seen.map(([at, type]) => `${type}@${at}`),
          ["text-delta@100", "retrying@1100", "text-delta@1500", "finish@1500"]
        )
      }).pipe(
        Effect.provide(
          ResilientChat.layer({
            retry: { jitter: false, baseDelay: "200 millis" },
            timeouts: { firstToken: "30 seconds", idle: "1 second" }
          }).pipe(
            Layer.provide(
              ScriptedChatModel.layer({
                script: (call) =>
                  call.index === 0
                    ? ScriptedChatModel.stream(ScriptedChatModel.textEvents(["Hello, ", "world"]), {
                        stallAt: 1,
                        delay: "100 millis"
                      })
                    : ScriptedChatModel.stream(
                        ScriptedChatModel.textEvents([
                          "Hello, world".slice(ChatRequest.assistantPrefix(call.request)?.length ?? 0)
                        ]),
                        { delay: "100 millis" }
                      )
              })
            )
          )
        )
      )
  )

  // With the live clock the deadlines are host timers (the tests above drive them by TestClock, through fibers).
  it.live(
    "with the live clock, the total deadline ends a stalled call with Timeout(total) and interrupts it",
    () =>
      Effect.gen(function* () {
        const chat = yield* ResilientChat.ResilientChat
        const started = Date.now()
        const exit = yield* Effect.exit(Stream.runDrain(chat.stream(request)))
        const elapsed = Date.now() - started
        const error = exit._tag === "Failure" ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
        assert.isTrue(
          error?._tag === "Fail" && error.error._tag === "Timeout" && error.error.phase === "total"
        )
        assert.isAtLeast(elapsed, 290)
        assert.isBelow(elapsed, 5_000, "the total deadline ended the call, not the first-token one")
        const calls = yield* (yield* ScriptedChatModel.ScriptedChatModel).calls
        assert.deepStrictEqual(
          calls.map((c) => c.outcome),
          ["interrupted"]
        )
      }).pipe(
        Effect.provide(
          ResilientChat.layer({
            timeouts: { firstToken: "30 seconds", total: "300 millis" },
            fallback: [],
            circuitBreaker: false
          }).pipe(
            Layer.provideMerge(
              ScriptedChatModel.layer({
                script: () =>
                  ScriptedChatModel.stream(ScriptedChatModel.textEvents(["Hello"]), { stallAt: 0 })
              })
            )
          )
        )
      )
  )
})
