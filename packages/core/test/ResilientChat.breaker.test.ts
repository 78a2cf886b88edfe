import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as ChatError from "../src/ChatError.ts"
import type * as ChatRequest from "../src/ChatRequest.ts"
import * as ChatTelemetry from "../src/ChatTelemetry.ts"
import * as FallbackStep from "../src/FallbackStep.ts"
import * as ResilientChat from "../src/ResilientChat.ts"
import * as ScriptedChatModel from "../src/testing/ScriptedChatModel.ts"

const request: ChatRequest.ChatRequest = { model: "m", messages: [{ role: "user", content: "hi" }] }
const down = () =>
  new ChatError.ServerError({ provider: "scripted", model: "m", status: 500, message: "down" })

// The default breaker (failure rate ≥ 0.5 over the last 20 attempts, once 10 are recorded), no retries,
// and a static answer as the last resort, so every call ends in success and only the events differ.
const withDefaultBreaker = (script: ScriptedChatModel.Script) =>
  ResilientChat.layer({
    retry: { maxRetries: 0 },
    fallback: [FallbackStep.staticAnswer("static")]
  }).pipe(Layer.provideMerge(ScriptedChatModel.layer({ script })))

const callOnce = Effect.gen(function* () {
  const chat = yield* ResilientChat.ResilientChat
  const fiber = yield* Effect.forkChild(Stream.runCollect(chat.stream(request)))
  yield* TestClock.adjust("1 millis")
  const events = yield* Fiber.join(fiber)
  return {
    text: events.flatMap((e) => (e.type === "text-delta" ? [e.delta] : [])).join(""),
    skipped: events.some((e) => e.type === "fallback" && e.error._tag === "CircuitOpen")
  }
})

const recordedCalls = Effect.flatMap(ScriptedChatModel.ScriptedChatModel, (r) => r.calls)

describe("ResilientChat's default circuit breaker", () => {
  it.effect("opens after ten calls of an outage and stops calling the model", () =>
    Effect.gen(function* () {
      const results = yield* Effect.replicateEffect(callOnce, 12)
      assert.deepStrictEqual(
        results.map((r) => r.skipped),
        [...Array.from({ length: 10 }, () => false), true, true]
      )
      assert.isTrue(results.every((r) => r.text === "static"))
      assert.strictEqual((yield* recordedCalls).length, 10)
    }).pipe(Effect.provide(withDefaultBreaker(() => ScriptedChatModel.fail(down()))))
  )

  it.effect("stays closed under 20% transient faults", () =>
    Effect.gen(function* () {
      const results = yield* Effect.replicateEffect(callOnce, 50)
      assert.isFalse(results.some((r) => r.skipped))
      assert.strictEqual(results.filter((r) => r.text === "answer").length, 40)
      assert.strictEqual((yield* recordedCalls).length, 50)
    }).pipe(
      Effect.provide(
        withDefaultBreaker((call) =>
          call.index % 5 === 4
            ? ScriptedChatModel.fail(down())
            : ScriptedChatModel.stream(ScriptedChatModel.textEvents("answer"))
        )
      )
    )
  )

  it.effect("judges the model by whether answers start: failures after the first chunk do not count", () =>
    Effect.gen(function* () {
      // every first attempt breaks after one chunk; its continuation finishes the answer
      const results = yield* Effect.replicateEffect(callOnce, 15)
      assert.isFalse(results.some((r) => r.skipped))
      assert.isTrue(results.every((r) => r.text === "answer"))
      assert.strictEqual((yield* recordedCalls).length, 30)
    }).pipe(
      Effect.provide(
        ResilientChat.layer({ retry: { maxRetries: 1, jitter: false, baseDelay: "1 millis" } }).pipe(
          Layer.provideMerge(
            ScriptedChatModel.layer({
              script: (call) =>
                call.index % 2 === 0
                  ? ScriptedChatModel.stream(ScriptedChatModel.textEvents(["ans", "wer"]), {
                      failAt: {
                        index: 1,
                        error: new ChatError.StreamTruncated({
                          provider: "scripted",
                          model: "m",
                          message: "reset",
                          delivered: "ans"
                        })
                      }
                    })
                  : ScriptedChatModel.stream(ScriptedChatModel.textEvents(["wer"]))
            })
          )
        )
      )
    )
  )

  it.effect(
    "shows each circuit's state in the state gauge: open after the outage, closed after a good probe",
    () =>
      Effect.gen(function* () {
        const state = Effect.map(
          Metric.value(Metric.withAttributes(ChatTelemetry.circuitState, { circuit: "scripted:m" })),
          (value) => value.value
        )
        yield* Effect.replicateEffect(callOnce, 10)
        yield* Effect.yieldNow
        assert.strictEqual(yield* state, 2, "open")
        yield* TestClock.adjust("31 seconds")
        const probe = yield* callOnce
        assert.strictEqual(probe.text, "answer")
        yield* Effect.yieldNow
        assert.strictEqual(yield* state, 0, "closed again")
        const opened = yield* Metric.value(
          Metric.withAttributes(ChatTelemetry.circuitStateChanges, { model: "scripted:m", state: "Open" })
        )
        assert.strictEqual(opened.count, 1)
      }).pipe(
        Effect.provide(
          withDefaultBreaker((call) =>
            call.index < 10
              ? ScriptedChatModel.fail(down())
              : ScriptedChatModel.stream(ScriptedChatModel.textEvents("answer"))
          )
        ),
        Effect.provideService(Metric.MetricRegistry, new Map())
      )
  )
})
