import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import { ChatError, ChatModel, type ChatRequest } from "../../src/index.ts"
import { ScriptedChatModel } from "../../src/testing/index.ts"

const request: ChatRequest.ChatRequest = { model: "m", messages: [{ role: "user", content: "hi" }] }
const limited = new ChatError.RateLimited({ provider: "scripted", model: "m", message: "slow down" })
const reset = new ChatError.StreamTruncated({
  provider: "scripted",
  model: "m",
  message: "reset",
  delivered: ""
})

const textOf = (events: ReadonlyArray<{ readonly type: string; readonly delta?: string }>) =>
  events.map((e) => (e.type === "text-delta" ? e.delta : "")).join("")

describe("ScriptedChatModel", () => {
  it.effect("plays each call's turn in order and records the calls", () =>
    Effect.gen(function* () {
      const model = yield* ChatModel.ChatModel
      const first = yield* Effect.flip(Stream.runCollect(model.stream(request)))
      assert.strictEqual(first._tag, "RateLimited")
      const second = yield* Stream.runCollect(model.stream(request))
      assert.strictEqual(textOf(second), "Hello, world")
      assert.deepStrictEqual(second.at(-1), { type: "finish", reason: "stop" })
      const third = yield* model.complete(request)
      assert.strictEqual(third.text, "fallback")
      const calls = yield* (yield* ScriptedChatModel.ScriptedChatModel).calls
      assert.deepStrictEqual(
        calls.map((c) => [c.kind, c.outcome, c.emitted]),
        [
          ["stream", "failure", 0],
          ["stream", "success", 4],
          ["complete", "success", 0]
        ]
      )
      assert.strictEqual(model.provider, "scripted")
    }).pipe(
      Effect.provide(
        ScriptedChatModel.layer({
          script: [
            ScriptedChatModel.fail(limited),
            ScriptedChatModel.stream(ScriptedChatModel.textEvents("Hello, world", { chunkSize: 5 })),
            ScriptedChatModel.complete("fallback")
          ]
        })
      )
    )
  )

  it.effect("fails after the given number of events", () =>
    Effect.gen(function* () {
      const model = yield* ChatModel.ChatModel
      const seen: Array<string> = []
      const error = yield* Effect.flip(
        Stream.runForEach(model.stream(request), (e) =>
          Effect.sync(() => seen.push(e.type === "text-delta" ? e.delta : e.type))
        )
      )
      assert.strictEqual(error, reset)
      assert.deepStrictEqual(seen, ["abcd", "efgh"])
    }).pipe(
      Effect.provide(
        ScriptedChatModel.layer({
          script: [
            ScriptedChatModel.stream(ScriptedChatModel.textEvents("abcdefghijkl"), {
              failAt: { index: 2, error: reset }
            })
          ]
        })
      )
    )
  )

  it.effect("stalls forever after stallAt events, and records the interruption", () =>
    Effect.gen(function* () {
      const model = yield* ChatModel.ChatModel
      const received: Array<string> = []
      const fiber = yield* Effect.forkChild(
        Stream.runForEach(model.stream(request), (e) => Effect.sync(() => received.push(e.type)))
      )
      yield* TestClock.adjust("1 hour")
      assert.deepStrictEqual(received, ["text-delta"])
      const exit = yield* Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber)))
      assert.isTrue(Exit.hasInterrupts(exit))
      const calls = yield* (yield* ScriptedChatModel.ScriptedChatModel).calls
      assert.strictEqual(calls[0]?.outcome, "interrupted")
    }).pipe(
      Effect.provide(
        ScriptedChatModel.layer({
          script: [ScriptedChatModel.stream(ScriptedChatModel.textEvents("abcdefgh"), { stallAt: 1 })]
        })
      )
    )
  )

  it.effect("waits the scripted delay before each event under the TestClock", () =>
    Effect.gen(function* () {
      const model = yield* ChatModel.ChatModel
      const received: Array<string> = []
      const fiber = yield* Effect.forkChild(
        Stream.runForEach(model.stream(request), (e) => Effect.sync(() => received.push(e.type)))
      )
      yield* TestClock.adjust("999 millis")
      assert.deepStrictEqual(received, [])
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(received, ["text-delta"])
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(received, ["text-delta", "text-delta", "finish"])
    }).pipe(
      Effect.provide(
        ScriptedChatModel.layer({
          script: [ScriptedChatModel.stream(ScriptedChatModel.textEvents("abcdefgh"), { delay: "1 second" })]
        })
      )
    )
  )

  it.effect("answers from a script function that sees the request", () =>
    Effect.gen(function* () {
      const model = yield* ChatModel.ChatModel
      const answer = yield* model.complete({ ...request, messages: [{ role: "user", content: "echo" }] })
      assert.strictEqual(answer.text, "echo #0")
      const streamed = yield* Stream.runCollect(model.stream(request))
      assert.strictEqual(textOf(streamed), "hi #1")
    }).pipe(
      Effect.provide(
        ScriptedChatModel.layer({
          script: (call) =>
            ScriptedChatModel.stream(
              ScriptedChatModel.textEvents(`${call.request.messages.at(-1)?.content} #${call.index}`)
            )
        })
      )
    )
  )

  it.effect("folds a stream turn into a completion for complete calls", () =>
    Effect.gen(function* () {
      const model = yield* ChatModel.ChatModel
      const answer = yield* model.complete(request)
      assert.deepStrictEqual(answer, {
        text: "truncated answer",
        finishReason: "length",
        usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 }
      })
    }).pipe(
      Effect.provide(
        ScriptedChatModel.layer({
          script: [
            ScriptedChatModel.stream(
              ScriptedChatModel.textEvents("truncated answer", {
                reason: "length",
                usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 }
              })
            )
          ]
        })
      )
    )
  )

  it.effect("dies with a clear message when the script runs out", () =>
    Effect.gen(function* () {
      const model = yield* ChatModel.ChatModel
      const exit = yield* Effect.exit(model.complete(request))
      assert.isTrue(Exit.isFailure(exit) && Exit.hasDies(exit))
      assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "no turn scripted for call 0")
    }).pipe(Effect.provide(ScriptedChatModel.layer({ script: [] })))
  )

  it.effect("resumable: numbers checkpoints, resumes after one with the next turn, records cancels", () =>
    Effect.gen(function* () {
      const events = ScriptedChatModel.checkpointed("r1", ScriptedChatModel.textEvents(["a", "b", "c"]))
      assert.deepStrictEqual(
        events.map((e) => (e.type === "checkpoint" ? e.cursor.sequence : e.type)),
        ["text-delta", 1, "text-delta", 2, "text-delta", 3, "finish"]
      )
      assert.strictEqual(textOf(ScriptedChatModel.after(events, 2)), "c")
      const model = ScriptedChatModel.make({
        script: [ScriptedChatModel.stream(ScriptedChatModel.after(events, 1))],
        resumable: true
      })
      const { chatModel, recorder } = yield* model
      const resumable = chatModel.resumable
      assert.isDefined(resumable)
      if (resumable === undefined) return
      const rest = yield* Stream.runCollect(resumable.resume({ id: "r1", sequence: 1 }, request))
      assert.strictEqual(textOf(rest), "bc")
      yield* resumable.cancel({ id: "r1", sequence: 3 })
      assert.deepStrictEqual(
        (yield* recorder.calls).map((c) => [c.kind, c.cursor?.sequence]),
        [["stream", 1]]
      )
      assert.deepStrictEqual(yield* recorder.cancels, [{ id: "r1", sequence: 3 }])
      const plain = yield* ScriptedChatModel.make({ script: [] })
      assert.isUndefined(plain.chatModel.resumable)
    })
  )
})
