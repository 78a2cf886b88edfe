import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import type * as ChatRequest from "../src/ChatRequest.ts"
import * as ResilientChat from "../src/ResilientChat.ts"
import type * as StreamEvent from "../src/StreamEvent.ts"
import * as ScriptedChatModel from "../src/testing/ScriptedChatModel.ts"

const request: ChatRequest.ChatRequest = { model: "m", messages: [{ role: "user", content: "hi" }] }
const answer = Array.from({ length: 60 }, (_, i) => `w${i} `).join("")

describe("ResilientChat and a slow consumer", () => {
  it.effect(
    "a consumer slower than the idle deadline never causes an idle timeout: the deadline times the model",
    () =>
      Effect.gen(function* () {
        const chat = yield* ResilientChat.ResilientChat
        const events: Array<StreamEvent.StreamEvent> = []
        // The model answers at once; the consumer takes 2 s per event, with an idle deadline of 1 s.
        const fiber = yield* chat.stream(request).pipe(
          Stream.runForEach((event) =>
            Effect.andThen(
              Effect.sleep("2 seconds"),
              Effect.sync(() => events.push(event))
            )
          ),
          Effect.forkChild
        )
        for (let i = 0; i < 200 && fiber.pollUnsafe() === undefined; i++) yield* TestClock.adjust("1 second")
        yield* Fiber.join(fiber)
        assert.isFalse(
          events.some((e) => e.type === "retrying"),
          "no recovery: the model never stalled"
        )
        assert.strictEqual(events.flatMap((e) => (e.type === "text-delta" ? [e.delta] : [])).join(""), answer)
        const calls = yield* (yield* ScriptedChatModel.ScriptedChatModel).calls
        assert.strictEqual(calls.length, 1)
      }).pipe(
        Effect.provide(
          ResilientChat.layer({
            timeouts: { firstToken: "1 second", idle: "1 second", total: "10 minutes" },
            circuitBreaker: false
          }).pipe(
            Layer.provideMerge(
              ScriptedChatModel.layer({
                script: [ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer, { chunkSize: 3 }))]
              })
            )
          )
        )
      )
  )
})
