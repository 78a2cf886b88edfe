// Two ResilientChat layers on one real redis-server stand for two instances of a fleet: what one
// learns (a 429's cooldown, an open circuit, a cached answer), the other acts on. Requests are counted
// at the model, which both instances share.
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import { assert, describe, layer } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Stream from "effect/Stream"
import * as ChatError from "../src/ChatError.ts"
import type * as ChatRequest from "../src/ChatRequest.ts"
import * as ChatTelemetry from "../src/ChatTelemetry.ts"
import * as FallbackStep from "../src/FallbackStep.ts"
import type * as ResiliencePolicy from "../src/ResiliencePolicy.ts"
import * as ResilientChat from "../src/ResilientChat.ts"
import type { StreamEvent } from "../src/StreamEvent.ts"
import * as ScriptedChatModel from "../src/testing/ScriptedChatModel.ts"
import * as RedisServer from "./RedisServer.ts"

const request: ChatRequest.ChatRequest = { model: "m", messages: [{ role: "user", content: "hi" }] }
const retryAfter = Duration.millis(1500)
const slowDown = () =>
  new ChatError.RateLimited({
    provider: "scripted",
    model: "m",
    status: 429,
    message: "slow down",
    retryAfter
  })
const down = () =>
  new ChatError.ServerError({ provider: "scripted", model: "m", status: 500, message: "down" })
const answer = () => ScriptedChatModel.stream(ScriptedChatModel.textEvents("answer"))

const textOf = (events: ReadonlyArray<StreamEvent>) =>
  events.flatMap((e) => (e.type === "text-delta" ? [e.delta] : [])).join("")

let prefixes = 0
/** A fresh prefix per test: the tests share one server. */
const freshPrefix = () => `test${++prefixes}:`

/** One instance: its own connection to Redis, its own ResilientChat over the shared model. */
const instance = (
  server: RedisServer.RedisServer,
  policy: ResiliencePolicy.ResiliencePolicy,
  prefix: string
) =>
  Effect.map(
    Layer.build(
      ResilientChat.layerRedis(policy, { prefix, timeout: "200 millis", pause: "300 millis" }).pipe(
        Layer.provide(NodeRedis.layer({ url: server.url }))
      )
    ),
    (context) => Context.get(context, ResilientChat.ResilientChat)
  ).pipe(Effect.orDie)

/** An instance that keeps its state in memory: it learns alone. */
const alone = (policy: ResiliencePolicy.ResiliencePolicy) =>
  Effect.map(Layer.build(ResilientChat.layer(policy)), (context) =>
    Context.get(context, ResilientChat.ResilientChat)
  )

const collect = (chat: ResilientChat.Service) => Stream.runCollect(chat.stream(request))

// The model: the first request is answered 429 + Retry-After; the time of every request is kept.
const rateLimitedOnce = () => {
  const times: Array<number> = []
  const layer = ScriptedChatModel.layer({
    script: (call) => {
      times.push(Date.now())
      return call.index === 0 ? ScriptedChatModel.fail(slowDown()) : answer()
    }
  })
  return { times, layer }
}

const fallbacks = (store: string, op: string) =>
  Effect.map(
    Metric.value(Metric.withAttributes(ChatTelemetry.sharedStateFallbacks, { store, op })),
    (state) => state.count
  )

// The first instance meets the 429; once it has announced its retry (the cooldown is recorded by then),
// the second starts a call. It returns the second instance's events and the requests the model saw.
const secondInsideTheWindow = (first: ResilientChat.Service, second: ResilientChat.Service) =>
  Effect.gen(function* () {
    const retrying = yield* Deferred.make<void>()
    const firstCall = yield* collect({
      ...first,
      stream: (input) =>
        first
          .stream(input)
          .pipe(Stream.tap((e) => (e.type === "retrying" ? Deferred.succeed(retrying, void 0) : Effect.void)))
    }).pipe(Effect.forkChild)
    yield* Deferred.await(retrying)
    const events = yield* collect(second)
    const firstEvents = yield* Fiber.join(firstCall)
    return { events, firstEvents }
  })

describe("ResilientChat.layerRedis: two instances on one Redis", () => {
  layer(RedisServer.layer, { excludeTestServices: true })((it) => {
    it.effect("share the cooldown: the second instance sends nothing inside the 429's window", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.Server
        const model = rateLimitedOnce()
        const prefix = freshPrefix()
        const policy = { retry: { jitter: false } }
        const { events, firstEvents } = yield* Effect.scoped(
          Effect.gen(function* () {
            const a = yield* instance(server, policy, prefix)
            const b = yield* instance(server, policy, prefix)
            return yield* secondInsideTheWindow(a, b)
          })
        ).pipe(Effect.provide(model.layer))
        assert.strictEqual(textOf(firstEvents), "answer")
        assert.strictEqual(textOf(events), "answer")
        const cooldown = events.find((e) => e.type === "cooldown")
        assert.isTrue(cooldown?.type === "cooldown" && Duration.toMillis(cooldown.delay) > 1000)
        const [limitedAt, ...later] = model.times
        assert.strictEqual(later.length, 2)
        // Both later requests come after the window (a few ms of timer slack allowed).
        for (const at of later) assert.isAtLeast(at - (limitedAt ?? 0), Duration.toMillis(retryAfter) - 20)
      })
    )

    it.effect("an instance alone does not know: its request lands inside the window", () =>
      Effect.gen(function* () {
        const model = rateLimitedOnce()
        const policy = { retry: { jitter: false } }
        const { events } = yield* Effect.scoped(
          Effect.gen(function* () {
            return yield* secondInsideTheWindow(yield* alone(policy), yield* alone(policy))
          })
        ).pipe(Effect.provide(model.layer))
        assert.isFalse(events.some((e) => e.type === "cooldown"))
        const [limitedAt, second] = model.times
        assert.isBelow((second ?? 0) - (limitedAt ?? 0), Duration.toMillis(retryAfter) / 2)
      })
    )

    it.effect("share the circuit breaker: a circuit the first opens is open in the second", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.Server
        const prefix = freshPrefix()
        const policy: ResiliencePolicy.ResiliencePolicy = {
          retry: { maxRetries: 0 },
          circuitBreaker: { failures: 2, openFor: "1 minute" },
          fallback: [FallbackStep.staticAnswer("static")]
        }
        yield* Effect.scoped(
          Effect.gen(function* () {
            const a = yield* instance(server, policy, prefix)
            const b = yield* instance(server, policy, prefix)
            yield* collect(a)
            yield* collect(a)
            const events = yield* collect(b)
            const skipped = events.find((e) => e.type === "fallback")
            assert.strictEqual(skipped?.type === "fallback" && skipped.error._tag, "CircuitOpen")
            assert.strictEqual(textOf(events), "static")
            const model = yield* ScriptedChatModel.ScriptedChatModel
            assert.strictEqual((yield* model.calls).length, 2)
          })
        ).pipe(Effect.provide(ScriptedChatModel.layer({ script: () => ScriptedChatModel.fail(down()) })))
      })
    )

    it.effect("share the cache: an answer the first cached serves the second's cached step", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.Server
        const prefix = freshPrefix()
        const policy: ResiliencePolicy.ResiliencePolicy = {
          retry: { maxRetries: 0 },
          circuitBreaker: false,
          fallback: [FallbackStep.cached]
        }
        yield* Effect.scoped(
          Effect.gen(function* () {
            const a = yield* instance(server, policy, prefix)
            const b = yield* instance(server, policy, prefix)
            assert.strictEqual(textOf(yield* collect(a)), "answer")
            const events = yield* collect(b)
            assert.strictEqual(textOf(events), "answer")
            assert.deepStrictEqual(
              events.filter((e) => e.type === "fallback").map((e) => e.type === "fallback" && e.step),
              ["cached"]
            )
          })
        ).pipe(
          Effect.provide(
            ScriptedChatModel.layer({
              script: (call) => (call.index === 0 ? answer() : ScriptedChatModel.fail(down()))
            })
          )
        )
      })
    )

    it.effect("Redis down: calls still succeed on local state, counted; Redis back: shared again", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.Server
        const prefix = freshPrefix()
        const policy: ResiliencePolicy.ResiliencePolicy = { fallback: [FallbackStep.cached] }
        yield* Effect.scoped(
          Effect.gen(function* () {
            const a = yield* instance(server, policy, prefix)
            assert.strictEqual(textOf(yield* collect(a)), "answer")
            const before = yield* fallbacks("breaker", "admit")
            yield* server.stop
            const started = Date.now()
            for (let i = 0; i < 3; i++) assert.strictEqual(textOf(yield* collect(a)), "answer")
            // One timeout for the outage, then local state at once.
            assert.isBelow(Date.now() - started, 2000)
            assert.isAbove(yield* fallbacks("breaker", "admit"), before)
            assert.isAbove(yield* fallbacks("cooldown", "consume"), 0)
            assert.isAbove(yield* fallbacks("cache", "set"), 0)
            assert.strictEqual((yield* Metric.value(ChatTelemetry.sharedStateUp)).value, 0)
            yield* server.start
            yield* Effect.sleep("1 second")
            const after = yield* fallbacks("breaker", "admit")
            assert.strictEqual(textOf(yield* collect(a)), "answer")
            assert.strictEqual(yield* fallbacks("breaker", "admit"), after)
            assert.strictEqual((yield* Metric.value(ChatTelemetry.sharedStateUp)).value, 1)
          })
        ).pipe(Effect.provide(ScriptedChatModel.layer({ script: () => answer() })))
      })
    )
  })
})
