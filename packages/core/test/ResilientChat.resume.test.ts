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
import type { ModelEvent } from "../src/ModelEvent.ts"
import type * as ResiliencePolicy from "../src/ResiliencePolicy.ts"
import * as ResilientChat from "../src/ResilientChat.ts"
import type * as StreamEvent from "../src/StreamEvent.ts"
import * as ScriptedChatModel from "../src/testing/ScriptedChatModel.ts"

const meta = { provider: "scripted", model: "m" }
const request: ChatRequest.ChatRequest = { model: "m", messages: [{ role: "user", content: "hi" }] }
const answer = "The quick brown fox jumps over the lazy dog"
const cut = () => new ChatError.StreamTruncated({ ...meta, message: "connection reset", delivered: "" })
const expired = () => new ChatError.NotFound({ ...meta, status: 404, message: "Response not found" })
// 11 text chunks of 4 characters, each followed by a checkpoint (sequence 1..11), then the finish.
const events = ScriptedChatModel.checkpointed("resp_1", ScriptedChatModel.textEvents(answer))
/** The index in `events` just after the checkpoint with `sequence`. */
const afterCheckpoint = (sequence: number) => events.length - ScriptedChatModel.after(events, sequence).length

/** Answers a continuation request with the rest of `answer`. */
const continuing = (call: { readonly request: ChatRequest.ChatRequest }) =>
  ScriptedChatModel.stream(
    ScriptedChatModel.textEvents(answer.slice(ChatRequest.assistantPrefix(call.request)?.length ?? 0))
  )

const policy: ResiliencePolicy.ResiliencePolicy = {
  retry: { jitter: false, maxRetries: 3 },
  fallback: [],
  circuitBreaker: false
}

const run = (
  script: ScriptedChatModel.Script,
  options: {
    readonly policy?: ResiliencePolicy.ResiliencePolicy
    readonly take?: number
  } = {}
) =>
  Effect.gen(function* () {
    const chat = yield* ResilientChat.ResilientChat
    const stream = chat.stream(request)
    const fiber = yield* (options.take === undefined ? stream : Stream.take(stream, options.take)).pipe(
      Stream.runCollect,
      Effect.exit,
      Effect.forkChild
    )
    yield* TestClock.adjust("10 minutes")
    const exit = yield* Fiber.join(fiber)
    yield* Effect.yieldNow
    const recorder = yield* ScriptedChatModel.ScriptedChatModel
    return { exit, calls: yield* recorder.calls, cancels: yield* recorder.cancels }
  }).pipe(
    Effect.provide(
      ResilientChat.layer(options.policy ?? policy).pipe(
        Layer.provideMerge(ScriptedChatModel.layer({ script, resumable: true })),
        Layer.merge(Logger.layer([]))
      )
    )
  )

const success = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isSuccess(exit)) return exit.value
  throw new Error(`expected success, got ${String(exit.cause)}`)
}

const textOf = (all: ReadonlyArray<StreamEvent.StreamEvent>) =>
  all.flatMap((e) => (e.type === "text-delta" ? [e.delta] : [])).join("")

const typesOf = (all: ReadonlyArray<StreamEvent.StreamEvent>) =>
  all.filter((e) => e.type !== "text-delta").map((e) => e.type)

/** Each call as [kind, resumed-from sequence or "-", continuation or not]. */
const shapeOf = (
  calls: ReadonlyArray<{ readonly request: ChatRequest.ChatRequest; readonly cursor?: { sequence: number } }>
) =>
  calls.map((call) => [
    call.cursor === undefined ? "stream" : `resume@${call.cursor.sequence}`,
    ChatRequest.assistantPrefix(call.request) === undefined ? "fresh" : "continuation"
  ])

describe("ResilientChat: true resume", () => {
  it.effect("resumes a cut stream after the newest checkpoint: exact text, one generation", () =>
    Effect.gen(function* () {
      const { exit, calls, cancels } = yield* run([
        ScriptedChatModel.stream(events, { failAt: { index: afterCheckpoint(4), error: cut() } }),
        ScriptedChatModel.stream(ScriptedChatModel.after(events, 4))
      ])
      const all = success(exit)
      assert.strictEqual(textOf(all), answer)
      assert.deepStrictEqual(typesOf(all), ["retrying", "finish"])
      assert.deepStrictEqual(shapeOf(calls), [
        ["stream", "fresh"],
        ["resume@4", "fresh"]
      ])
      assert.deepStrictEqual(cancels, [])
    })
  )

  it.effect("resumes after an idle stall", () =>
    Effect.gen(function* () {
      const { exit, calls } = yield* run(
        [
          ScriptedChatModel.stream(events, { stallAt: afterCheckpoint(2) }),
          ScriptedChatModel.stream(ScriptedChatModel.after(events, 2))
        ],
        { policy: { ...policy, timeouts: { idle: "5 seconds" } } }
      )
      const all = success(exit)
      assert.strictEqual(textOf(all), answer)
      const retrying = all.find((e) => e.type === "retrying")
      assert.strictEqual(retrying?.type === "retrying" ? retrying.error._tag : undefined, "Timeout")
      assert.deepStrictEqual(shapeOf(calls), [
        ["stream", "fresh"],
        ["resume@2", "fresh"]
      ])
    })
  )

  it.effect("a second break during a resume resumes again from the newest sequence number", () =>
    Effect.gen(function* () {
      const rest = ScriptedChatModel.after(events, 3)
      const { exit, calls } = yield* run([
        ScriptedChatModel.stream(events, { failAt: { index: afterCheckpoint(3), error: cut() } }),
        ScriptedChatModel.stream(rest, {
          failAt: { index: afterCheckpoint(6) - afterCheckpoint(3), error: cut() }
        }),
        ScriptedChatModel.fail(cut()),
        ScriptedChatModel.stream(ScriptedChatModel.after(events, 6))
      ])
      assert.strictEqual(textOf(success(exit)), answer)
      assert.deepStrictEqual(shapeOf(calls), [
        ["stream", "fresh"],
        ["resume@3", "fresh"],
        ["resume@6", "fresh"],
        ["resume@6", "fresh"]
      ])
    })
  )

  it.effect("an expired resume falls back to a continuation request at once", () =>
    Effect.gen(function* () {
      const { exit, calls } = yield* run((call) =>
        call.index === 0
          ? ScriptedChatModel.stream(events, { failAt: { index: afterCheckpoint(5), error: cut() } })
          : call.index === 1
            ? ScriptedChatModel.fail(expired())
            : continuing(call)
      )
      const all = success(exit)
      assert.strictEqual(textOf(all), answer)
      assert.deepStrictEqual(typesOf(all), ["retrying", "finish"])
      assert.deepStrictEqual(shapeOf(calls), [
        ["stream", "fresh"],
        ["resume@5", "fresh"],
        ["stream", "continuation"]
      ])
    })
  )

  it.effect("an error of the generation itself is not resumed: it is cancelled and continued", () =>
    Effect.gen(function* () {
      const inBand = new ChatError.ServerError({ ...meta, message: "The server had an error" })
      const { exit, calls, cancels } = yield* run((call) =>
        call.index === 0
          ? ScriptedChatModel.stream(events, { failAt: { index: afterCheckpoint(5), error: inBand } })
          : continuing(call)
      )
      assert.strictEqual(textOf(success(exit)), answer)
      assert.deepStrictEqual(shapeOf(calls), [
        ["stream", "fresh"],
        ["stream", "continuation"]
      ])
      assert.deepStrictEqual(cancels, [{ id: "resp_1", sequence: 5 }])
    })
  )

  it.effect("content read after the newest checkpoint is never resumed over: it is continued", () =>
    Effect.gen(function* () {
      const { exit, calls, cancels } = yield* run((call) =>
        call.index === 0
          ? // The fifth chunk arrives, its checkpoint does not: a resume after 4 would repeat it.
            ScriptedChatModel.stream(events, { failAt: { index: afterCheckpoint(4) + 1, error: cut() } })
          : continuing(call)
      )
      assert.strictEqual(textOf(success(exit)), answer)
      assert.deepStrictEqual(shapeOf(calls), [
        ["stream", "fresh"],
        ["stream", "continuation"]
      ])
      assert.deepStrictEqual(cancels, [{ id: "resp_1", sequence: 4 }])
    })
  )

  it.effect("keeps a character split across the cut whole", () =>
    Effect.gen(function* () {
      const text = "Sea 🌊 and sky"
      const split = ScriptedChatModel.checkpointed(
        "resp_2",
        ScriptedChatModel.textEvents(["Sea ", "\uD83C", "\uDF0A and", " sky"])
      )
      const { exit } = yield* run([
        ScriptedChatModel.stream(split, { failAt: { index: 4, error: cut() } }),
        ScriptedChatModel.stream(ScriptedChatModel.after(split, 2))
      ])
      const all = success(exit)
      assert.strictEqual(textOf(all), text)
      for (const event of all) {
        if (event.type === "text-delta") assert.isFalse(/[\uD800-\uDBFF]$/.test(event.delta))
      }
    })
  )

  it.effect("tool call arguments continue across a resume without repeats", () =>
    Effect.gen(function* () {
      const tool: Array<ModelEvent> = ScriptedChatModel.checkpointed("resp_3", [
        { type: "tool-call-delta", index: 0, id: "call_1", name: "lookup", argumentsDelta: '{"q":' },
        { type: "tool-call-delta", index: 0, argumentsDelta: '"tides' },
        { type: "tool-call-delta", index: 0, argumentsDelta: '"}' },
        { type: "finish", reason: "tool-calls" }
      ])
      const { exit } = yield* run([
        ScriptedChatModel.stream(tool, { failAt: { index: 4, error: cut() } }),
        ScriptedChatModel.stream(ScriptedChatModel.after(tool, 2))
      ])
      const deltas = success(exit).flatMap((e) => (e.type === "tool-call-delta" ? [e] : []))
      assert.strictEqual(deltas.map((d) => d.argumentsDelta).join(""), '{"q":"tides"}')
      assert.deepStrictEqual(
        deltas.flatMap((d) => (d.id === undefined ? [] : [d.id])),
        ["call_1"]
      )
    })
  )

  for (const midStream of ["fail", "restart"] as const) {
    it.effect(`resumes in midStream "${midStream}" mode too (a resume is not a second generation)`, () =>
      Effect.gen(function* () {
        const { exit } = yield* run(
          [
            ScriptedChatModel.stream(events, { failAt: { index: afterCheckpoint(4), error: cut() } }),
            ScriptedChatModel.stream(ScriptedChatModel.after(events, 4))
          ],
          { policy: { ...policy, midStream } }
        )
        const all = success(exit)
        assert.strictEqual(textOf(all), answer)
        assert.deepStrictEqual(typesOf(all), ["retrying", "finish"])
      })
    )
  }

  it.effect("resumes count in the retry budget; a call that gives up cancels the generation", () =>
    Effect.gen(function* () {
      const { exit, calls, cancels } = yield* run(
        [
          ScriptedChatModel.stream(events, { failAt: { index: afterCheckpoint(2), error: cut() } }),
          ScriptedChatModel.fail(cut())
        ],
        { policy: { ...policy, retry: { jitter: false, maxRetries: 1 } } }
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual(calls.length, 2)
      assert.deepStrictEqual(cancels, [{ id: "resp_1", sequence: 2 }])
    })
  )

  it.effect("a consumer that stops early cancels the generation", () =>
    Effect.gen(function* () {
      const { exit, cancels } = yield* run([ScriptedChatModel.stream(events, { delay: "1 second" })], {
        take: 3
      })
      assert.strictEqual(textOf(success(exit)), answer.slice(0, 12))
      assert.strictEqual(cancels.length, 1)
      assert.strictEqual(cancels[0]?.id, "resp_1")
    })
  )

  it.effect("a finished generation is not cancelled", () =>
    Effect.gen(function* () {
      const { exit, cancels } = yield* run([ScriptedChatModel.stream(events)])
      assert.strictEqual(textOf(success(exit)), answer)
      assert.deepStrictEqual(cancels, [])
    })
  )
})
