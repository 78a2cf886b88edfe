// Answers that survive the browser's connection and the instance producing them: read part of an
// answer, lose the connection, resume with Last-Event-ID (on the same instance, or on another one
// sharing Redis after the producer died) and check every character arrives once.
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import { assert, describe, it, layer } from "@effect/vitest"
import { type FakeOpenAiServer, FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redis from "effect/persistence/Redis"
import * as RedisServer from "../../core/test/RedisServer.ts"
import * as AnswerStore from "../src/AnswerStore.ts"
import * as RedisAnswerStore from "../src/RedisAnswerStore.ts"
import * as SseClient from "../src/SseClient.ts"
import { startExample, upstreamCancelled } from "./example.ts"

const dripping: FakeOpenAiServer.Options = {
  steps: [],
  fallback: FakeScenario.answer({ delay: "40 millis" })
}

const ask = (url: string, enough?: (frames: ReadonlyArray<SseClient.Received>) => boolean) =>
  Effect.promise(() => SseClient.ask(url, "Tell me about the sea", enough))

const resume = (url: string, id: string, lastEventId: string | undefined) =>
  Effect.promise(() => SseClient.resume(url, id, lastEventId))

const { deltas, textOf } = SseClient

/** Ids strictly increase (Redis stream ids compare by time, then sequence). */
const increasing = (ids: ReadonlyArray<string>) =>
  ids.every((id, i) => {
    if (i === 0) return true
    const [t0, s0] = (ids[i - 1] ?? "").split("-").map(Number)
    const [t1, s1] = id.split("-").map(Number)
    return (t1 ?? 0) > (t0 ?? 0) || (t1 === t0 && (s1 ?? 0) > (s0 ?? 0))
  })

describe("Answers", () => {
  it.live("resume from Last-Event-ID after the browser's connection drops: every character once", () =>
    Effect.gen(function* () {
      const { url } = yield* startExample(dripping)
      const first = yield* ask(url, deltas(5))
      assert.match(first.answerId, /^[0-9a-f-]{36}$/)
      assert.isTrue(first.frames.every((b) => b.id !== undefined))
      yield* Effect.sleep("300 millis")
      const rest = yield* resume(url, first.answerId, first.frames.at(-1)?.id)
      assert.strictEqual(rest.status, 200)
      const all = [...first.frames, ...rest.frames]
      assert.strictEqual(textOf(all), FakeScenario.defaultText)
      assert.isTrue(increasing(all.map((b) => b.id ?? "")))
      assert.strictEqual(all.at(-1)?.event, "summary")
      // Without a cursor the whole answer is replayed.
      assert.strictEqual(
        textOf((yield* resume(url, first.answerId, undefined)).frames),
        FakeScenario.defaultText
      )
      // After its last frame a complete answer has nothing more: it is not taken over and continued.
      const after = yield* resume(url, first.answerId, all.at(-1)?.id)
      assert.deepStrictEqual(after.frames, [])
      const bad = yield* resume(url, first.answerId, "not-an-id")
      assert.strictEqual(bad.status, 400)
    }).pipe(Effect.scoped)
  )

  it.live("an unknown answer is a 404", () =>
    Effect.gen(function* () {
      const { url } = yield* startExample(dripping)
      const response = yield* Effect.promise(() => fetch(`${url}/api/answers/nope/events`))
      assert.strictEqual(response.status, 404)
    }).pipe(Effect.scoped)
  )

  it.live("DELETE cancels the answer and its upstream call at once", () =>
    Effect.gen(function* () {
      const { url, fake } = yield* startExample(FakeScenario.named.slow)
      const first = yield* ask(url, deltas(1))
      const deleted = yield* Effect.promise(() =>
        fetch(`${url}/api/answers/${first.answerId}`, { method: "DELETE" })
      )
      assert.strictEqual(deleted.status, 204)
      assert.isTrue(yield* upstreamCancelled(fake), "the upstream call was cancelled")
      const rest = yield* resume(url, first.answerId, first.frames.at(-1)?.id)
      assert.deepStrictEqual(
        rest.frames.map((b) => [b.event, b.data.stopped]),
        [
          ["error", "cancelled"],
          ["summary", undefined]
        ]
      )
    }).pipe(Effect.scoped)
  )
})

/** A store that can die like the process holding it: after `kill`, every operation fails. */
const killable = (store: AnswerStore.AnswerStore) => {
  let dead = false
  const guarded = Object.fromEntries(
    Object.entries(store).map(([name, value]) => [
      name,
      typeof value === "function"
        ? (...args: Array<unknown>) =>
            Effect.suspend(() =>
              dead ? Effect.fail(new AnswerStore.StoreError({ cause: "killed" })) : value(...args)
            )
        : value
    ])
  ) as unknown as AnswerStore.AnswerStore
  return { store: guarded, kill: () => (dead = true) }
}

const redisStore = (server: RedisServer.RedisServer, lease: Duration.Input = "600 millis") =>
  Effect.gen(function* () {
    const redis = Context.get(yield* Layer.build(NodeRedis.layer({ url: server.url })), Redis.Redis)
    return yield* RedisAnswerStore.make({ lease }).pipe(Effect.provideService(Redis.Redis, redis))
  }).pipe(Effect.orDie)

describe("Answers on Redis: two instances", () => {
  layer(RedisServer.layer, { excludeTestServices: true })((it) => {
    it.effect("another instance takes over when the producer dies: the text continues exactly", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.Server
        const a = killable(yield* redisStore(server))
        const instanceA = yield* startExample(dripping, undefined, undefined, { store: a.store })
        const instanceB = yield* startExample(dripping, undefined, undefined, {
          store: yield* redisStore(server)
        })
        const first = yield* ask(instanceA.url, deltas(5))
        a.kill()
        const started = Date.now()
        const rest = yield* resume(instanceB.url, first.answerId, first.frames.at(-1)?.id)
        const all = [...first.frames, ...rest.frames]
        assert.strictEqual(textOf(all), FakeScenario.defaultText)
        assert.isTrue(increasing(all.map((b) => b.id ?? "")))
        assert.isTrue(rest.frames.some((b) => b.event === "resumed"))
        assert.strictEqual(all.at(-1)?.event, "summary")
        // B's model was asked only for the rest: a continuation of the text already delivered.
        const continued = (yield* instanceB.fake.requests).filter((r) => r.path === "/v1/chat/completions")
        assert.strictEqual(continued.length, 1)
        assert.isBelow(Date.now() - started, 5000)
      })
    )

    it.effect(
      "an instance that shuts down hands its answers over: the client resumes elsewhere at once",
      () =>
        Effect.gen(function* () {
          const server = yield* RedisServer.Server
          const instanceA = yield* startExample(dripping, undefined, undefined, {
            store: yield* redisStore(server, "3 seconds")
          })
          const instanceB = yield* startExample(dripping, undefined, undefined, {
            store: yield* redisStore(server)
          })
          const answer = yield* Effect.forkChild(ask(instanceA.url))
          yield* Effect.sleep("400 millis")
          const started = performance.now()
          yield* instanceA.shutdown
          const first = yield* Fiber.join(answer)
          assert.isFalse(first.frames.some((b) => b.event === "summary" || b.event === "error"))
          const rest = yield* resume(instanceB.url, first.answerId, first.frames.at(-1)?.id)
          assert.strictEqual(textOf([...first.frames, ...rest.frames]), FakeScenario.defaultText)
          const resumed = rest.frames.findIndex((b) => b.event === "resumed")
          assert.isAtLeast(resumed, 0)
          // Given up, not lapsed: taken over well before the 3 s lease could run out.
          assert.isBelow((rest.arrivals[resumed] ?? Number.POSITIVE_INFINITY) - started, 1000)
        })
    )
  })
})
