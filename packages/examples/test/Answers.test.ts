// Answers that survive the browser's connection and the instance producing them: read part of an
// answer, lose the connection, resume with Last-Event-ID (on the same instance, or on another one
// sharing Redis after the producer died) and check every character arrives once.
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import { assert, describe, it, layer } from "@effect/vitest"
import { type FakeOpenAiServer, FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redis from "effect/persistence/Redis"
import * as RedisServer from "../../core/test/RedisServer.ts"
import * as AnswerStore from "../src/AnswerStore.ts"
import * as RedisAnswerStore from "../src/RedisAnswerStore.ts"
import { startExample, upstreamCancelled } from "./example.ts"

const dripping: FakeOpenAiServer.Options = {
  steps: [],
  fallback: FakeScenario.answer({ delay: "40 millis" })
}

interface Block {
  readonly id: string | undefined
  readonly event: string
  readonly data: Record<string, unknown>
}

const blocks = (text: string): Array<Block> =>
  text
    .slice(0, text.lastIndexOf("\n\n") + 2)
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const line = (name: string) =>
        block
          .split("\n")
          .find((l) => l.startsWith(`${name}: `))
          ?.slice(name.length + 2)
      return { id: line("id"), event: line("event") ?? "message", data: JSON.parse(line("data") ?? "{}") }
    })

const textOf = (all: ReadonlyArray<Block>) =>
  all
    .filter((b) => b.event === "text-delta")
    .map((b) => b.data.delta)
    .join("")

/** Reads an SSE response until `enough` says so (then aborts, as a dropped connection) or it ends. */
const read = (url: string, init: RequestInit, enough: (all: ReadonlyArray<Block>) => boolean = () => false) =>
  Effect.promise(async () => {
    const controller = new AbortController()
    const response = await fetch(url, { ...init, signal: controller.signal })
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let text = ""
    const deadline = Date.now() + 15_000
    try {
      while (Date.now() < deadline && !enough(blocks(text))) {
        const { value, done } = await reader.read()
        if (done) break
        text += decoder.decode(value, { stream: true })
      }
    } finally {
      controller.abort()
    }
    return { status: response.status, id: response.headers.get("x-answer-id") ?? "", blocks: blocks(text) }
  })

const ask = (url: string, enough?: (all: ReadonlyArray<Block>) => boolean) =>
  read(
    `${url}/api/chat`,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: "Tell me about the sea" })
    },
    enough
  )

const resume = (url: string, id: string, lastEventId: string | undefined) =>
  read(`${url}/api/answers/${id}/events`, {
    headers: lastEventId === undefined ? {} : { "last-event-id": lastEventId }
  })

const deltas = (count: number) => (all: ReadonlyArray<Block>) =>
  all.filter((b) => b.event === "text-delta").length >= count

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
      assert.match(first.id, /^[0-9a-f-]{36}$/)
      assert.isTrue(first.blocks.every((b) => b.id !== undefined))
      yield* Effect.sleep("300 millis")
      const rest = yield* resume(url, first.id, first.blocks.at(-1)?.id)
      assert.strictEqual(rest.status, 200)
      const all = [...first.blocks, ...rest.blocks]
      assert.strictEqual(textOf(all), FakeScenario.defaultText)
      assert.isTrue(increasing(all.map((b) => b.id ?? "")))
      assert.strictEqual(all.at(-1)?.event, "summary")
      // Without a cursor the whole answer is replayed.
      assert.strictEqual(textOf((yield* resume(url, first.id, undefined)).blocks), FakeScenario.defaultText)
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
        fetch(`${url}/api/answers/${first.id}`, { method: "DELETE" })
      )
      assert.strictEqual(deleted.status, 204)
      assert.isTrue(yield* upstreamCancelled(fake), "the upstream call was cancelled")
      const rest = yield* resume(url, first.id, first.blocks.at(-1)?.id)
      assert.deepStrictEqual(
        rest.blocks.map((b) => [b.event, b.data.stopped]),
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

const redisStore = (server: RedisServer.RedisServer) =>
  Effect.gen(function* () {
    const redis = Context.get(yield* Layer.build(NodeRedis.layer({ url: server.url })), Redis.Redis)
    return yield* RedisAnswerStore.make({ lease: "600 millis" }).pipe(
      Effect.provideService(Redis.Redis, redis)
    )
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
        const rest = yield* resume(instanceB.url, first.id, first.blocks.at(-1)?.id)
        const all = [...first.blocks, ...rest.blocks]
        assert.strictEqual(textOf(all), FakeScenario.defaultText)
        assert.isTrue(increasing(all.map((b) => b.id ?? "")))
        assert.isTrue(rest.blocks.some((b) => b.event === "resumed"))
        assert.strictEqual(all.at(-1)?.event, "summary")
        // B's model was asked only for the rest: a continuation of the text already delivered.
        const continued = (yield* instanceB.fake.requests).filter((r) => r.path === "/v1/chat/completions")
        assert.strictEqual(continued.length, 1)
        assert.isBelow(Date.now() - started, 5000)
      })
    )
  })
})
