import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as ChatError from "../src/ChatError.ts"
import type * as ChatRequest from "../src/ChatRequest.ts"
import * as FallbackStep from "../src/FallbackStep.ts"
import type * as ResiliencePolicy from "../src/ResiliencePolicy.ts"
import * as ResilientChat from "../src/ResilientChat.ts"
import type { StreamEvent } from "../src/StreamEvent.ts"
import * as ScriptedChatModel from "../src/testing/ScriptedChatModel.ts"

const request: ChatRequest.ChatRequest = { model: "m", messages: [{ role: "user", content: "hi" }] }
const slowDown = (retryAfter: Duration.Input) =>
  new ChatError.RateLimited({
    provider: "scripted",
    model: "m",
    status: 429,
    message: "slow down",
    retryAfter: Duration.fromInputUnsafe(retryAfter)
  })

// The first request is answered 429 + Retry-After 2 s; every later one streams "answer".
const firstRateLimited = (call: { readonly index: number }) =>
  call.index === 0
    ? ScriptedChatModel.fail(slowDown("2 seconds"))
    : ScriptedChatModel.stream(ScriptedChatModel.textEvents("answer"))

const chat = (policy: ResiliencePolicy.ResiliencePolicy, script: ScriptedChatModel.Script) =>
  ResilientChat.layer({ retry: { jitter: false, baseDelay: "10 millis" }, ...policy }).pipe(
    Layer.provideMerge(ScriptedChatModel.layer({ script }))
  )

const start = Effect.flatMap(ResilientChat.ResilientChat, (resilient) =>
  Effect.forkChild(Stream.runCollect(resilient.stream(request)))
)
const requests = Effect.flatMap(ScriptedChatModel.ScriptedChatModel, (model) =>
  Effect.map(model.calls, (calls) => calls.length)
)
const textOf = (events: ReadonlyArray<StreamEvent>) =>
  events.flatMap((e) => (e.type === "text-delta" ? [e.delta] : [])).join("")

describe("ResilientChat's rate-limit cooldown", () => {
  it.effect("makes every call of the layer wait out a 429's Retry-After: no request inside the window", () =>
    Effect.gen(function* () {
      const first = yield* start
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* requests, 1)
      // Nine more calls start inside the window: none of them reaches the model before it ends.
      const others = yield* Effect.replicateEffect(start, 9)
      yield* TestClock.adjust("1998 millis")
      assert.strictEqual(yield* requests, 1)
      yield* TestClock.adjust("1 millis")
      const firstEvents = yield* Fiber.join(first)
      const otherEvents = yield* Effect.forEach(others, Fiber.join)
      assert.strictEqual(yield* requests, 11)
      assert.strictEqual(textOf(firstEvents), "answer")
      // The call that met the 429 waits once, in its retry (≥ Retry-After); it is not held up again.
      assert.deepStrictEqual(
        firstEvents.filter((e) => e.type === "retrying" || e.type === "cooldown").map((e) => e.type),
        ["retrying"]
      )
      for (const events of otherEvents) {
        assert.strictEqual(textOf(events), "answer")
        const cooldown = events.find((e) => e.type === "cooldown")
        assert.isDefined(cooldown)
        assert.strictEqual(cooldown?.type === "cooldown" && Duration.toMillis(cooldown.delay), 1999)
        assert.isFalse(events.some((e) => e.type === "retrying"))
      }
    }).pipe(Effect.provide(chat({}, firstRateLimited)))
  )

  it.effect("skips a cooldown that would outlast the total deadline to the next step, sending nothing", () =>
    Effect.gen(function* () {
      const first = yield* start
      yield* TestClock.adjust("1 millis")
      const second = yield* start
      yield* TestClock.adjust("1 millis")
      const events = [yield* Fiber.join(first), yield* Fiber.join(second)]
      assert.strictEqual(yield* requests, 1)
      for (const all of events) {
        assert.strictEqual(textOf(all), "static")
        assert.isFalse(all.some((e) => e.type === "cooldown"))
      }
      // The second call's primary step was skipped with a RateLimited that names the cooldown.
      const skipped = events[1]?.find((e) => e.type === "fallback")
      assert.isTrue(skipped?.type === "fallback" && skipped.error.message.includes("cooling down"))
    }).pipe(
      Effect.provide(
        chat(
          { timeouts: { total: "1 second" }, fallback: [FallbackStep.staticAnswer("static")] },
          firstRateLimited
        )
      )
    )
  )

  it.effect("skips a cooldown longer than maxRetryAfter", () =>
    Effect.gen(function* () {
      const first = yield* start
      yield* TestClock.adjust("1 millis")
      const second = yield* start
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(textOf(yield* Fiber.join(second)), "static")
      assert.strictEqual(textOf(yield* Fiber.join(first)), "static")
      assert.strictEqual(yield* requests, 1)
    }).pipe(
      Effect.provide(
        chat(
          { retry: { maxRetryAfter: "1 second" }, fallback: [FallbackStep.staticAnswer("static")] },
          (call) =>
            call.index === 0
              ? ScriptedChatModel.fail(slowDown("5 seconds"))
              : ScriptedChatModel.stream(ScriptedChatModel.textEvents("answer"))
        )
      )
    )
  )

  it.effect("leaves other models alone: a fallback to another model is not held up", () =>
    Effect.gen(function* () {
      const first = yield* start
      yield* TestClock.adjust("1 millis")
      const events = yield* Fiber.join(first)
      assert.strictEqual(textOf(events), "answer")
      assert.isFalse(events.some((e) => e.type === "cooldown"))
      assert.strictEqual(yield* requests, 2)
    }).pipe(
      Effect.provide(
        chat({ retry: { maxRetries: 0 }, fallback: [FallbackStep.model("other")] }, firstRateLimited)
      )
    )
  )

  it.effect("a burst of 429s with Retry-After does not open the circuit: the calls wait and all answer", () =>
    Effect.gen(function* () {
      const calls = yield* Effect.replicateEffect(start, 12)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* requests, 12)
      yield* TestClock.adjust("5 millis")
      yield* TestClock.adjust("2 seconds")
      for (const call of calls) {
        const events = yield* Fiber.join(call)
        assert.strictEqual(textOf(events), "answer")
        assert.isFalse(events.some((e) => e.type === "fallback"))
      }
      assert.strictEqual(yield* requests, 24)
    }).pipe(
      Effect.provide(
        chat({}, (call) =>
          // All twelve are in flight before the first 429 comes back.
          call.index < 12
            ? ScriptedChatModel.fail(slowDown("1 second"), { delay: "5 millis" })
            : ScriptedChatModel.stream(ScriptedChatModel.textEvents("answer"))
        )
      )
    )
  )
})
