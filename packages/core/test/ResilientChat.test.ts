import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as ChatError from "../src/ChatError.ts"
import type * as ChatRequest from "../src/ChatRequest.ts"
import type * as ResiliencePolicy from "../src/ResiliencePolicy.ts"
import * as ResilientChat from "../src/ResilientChat.ts"
import type * as StreamEvent from "../src/StreamEvent.ts"
import * as ScriptedChatModel from "../src/testing/ScriptedChatModel.ts"

const meta = { provider: "scripted", model: "m" }
const request: ChatRequest.ChatRequest = { model: "m", messages: [{ role: "user", content: "hi" }] }

const run = (
  policy: ResiliencePolicy.ResiliencePolicy,
  script: ScriptedChatModel.Script,
  advance: Duration.Input = "10 minutes"
) =>
  Effect.gen(function* () {
    const chat = yield* ResilientChat.ResilientChat
    const fiber = yield* chat.stream(request).pipe(Stream.runCollect, Effect.exit, Effect.forkChild)
    yield* TestClock.adjust(advance)
    const exit = yield* Fiber.join(fiber)
    const calls = yield* (yield* ScriptedChatModel.ScriptedChatModel).calls
    return { exit, calls }
  }).pipe(
    Effect.provide(ResilientChat.layer(policy).pipe(Layer.provideMerge(ScriptedChatModel.layer({ script }))))
  )

const textOf = (events: ReadonlyArray<StreamEvent.StreamEvent>) =>
  events.flatMap((e) => (e.type === "text-delta" ? [e.delta] : [])).join("")

describe("ResilientChat smoke", () => {
  it.effect("retries before content", () =>
    Effect.gen(function* () {
      const { exit, calls } = yield* run({ retry: { jitter: false } }, [
        ScriptedChatModel.fail(
          new ChatError.RateLimited({ ...meta, message: "slow", retryAfter: Duration.seconds(2) })
        ),
        ScriptedChatModel.stream(ScriptedChatModel.textEvents("Hello, world"))
      ])
      assert.isTrue(Exit.isSuccess(exit))
      if (Exit.isSuccess(exit)) {
        console.log(JSON.stringify(exit.value))
        assert.strictEqual(textOf(exit.value), "Hello, world")
      }
      assert.strictEqual(calls.length, 2)
    })
  )
  it.effect("continues mid-stream", () =>
    Effect.gen(function* () {
      const answer = "The quick brown fox jumps over the lazy dog"
      const { exit, calls } = yield* run({ retry: { jitter: false } }, (call) => {
        if (call.index === 0)
          return ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), {
            failAt: {
              index: 3,
              error: new ChatError.StreamTruncated({ ...meta, message: "cut", delivered: "" })
            }
          })
        const prefix = call.request.messages.at(-1)!.content
        return ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer.slice(prefix.length - 5)))
      })
      console.log(JSON.stringify(exit), JSON.stringify(calls.map((c) => [c.outcome, c.request.messages])))
      assert.isTrue(Exit.isSuccess(exit))
      if (Exit.isSuccess(exit)) assert.strictEqual(textOf(exit.value), answer)
    })
  )
})
