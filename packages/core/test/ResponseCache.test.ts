import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as References from "effect/References"
import type * as ChatRequest from "../src/ChatRequest.ts"
import * as ResponseCache from "../src/ResponseCache.ts"

const request: ChatRequest.ChatRequest = {
  model: "m",
  messages: [{ role: "user", content: "hi" }],
  temperature: 0.2
}

describe("ResponseCache", () => {
  it("keys equal requests alike, whatever the key order, and different requests apart", () => {
    const reordered = { temperature: 0.2, messages: [{ content: "hi", role: "user" as const }], model: "m" }
    assert.strictEqual(ResponseCache.key(request), ResponseCache.key(reordered))
    assert.notStrictEqual(ResponseCache.key(request), ResponseCache.key({ ...request, temperature: 0.3 }))
    assert.notStrictEqual(
      ResponseCache.key(request),
      ResponseCache.key({ ...request, messages: [{ role: "user", content: "hi!" }] })
    )
  })

  it.effect("stores and serves completions in memory", () =>
    Effect.gen(function* () {
      const cache = yield* ResponseCache.ResponseCache
      assert.isUndefined(yield* cache.get(request))
      yield* cache.set(request, { text: "hello", finishReason: "stop", model: "m" })
      assert.deepStrictEqual(yield* cache.get(request), { text: "hello", finishReason: "stop", model: "m" })
      assert.isUndefined(yield* cache.get({ ...request, model: "other" }))
    }).pipe(Effect.provide(ResponseCache.layerMemory))
  )

  it.effect("uses any KeyValueStore given to its layer", () =>
    Effect.gen(function* () {
      const cache = yield* ResponseCache.ResponseCache
      const store = yield* KeyValueStore.KeyValueStore
      yield* cache.set(request, { text: "stored", finishReason: "stop" })
      const raw = yield* store.get(ResponseCache.key(request))
      assert.isString(raw)
      assert.include(raw!, "stored")
    }).pipe(Effect.provide(ResponseCache.layer.pipe(Layer.provideMerge(KeyValueStore.layerMemory))))
  )

  it.effect("reads a corrupt entry as a miss instead of failing", () =>
    Effect.gen(function* () {
      const cache = yield* ResponseCache.ResponseCache
      const store = yield* KeyValueStore.KeyValueStore
      yield* store.set(ResponseCache.key(request), "not json")
      assert.isUndefined(yield* cache.get(request))
    }).pipe(
      Effect.provide(ResponseCache.layer.pipe(Layer.provideMerge(KeyValueStore.layerMemory))),
      Effect.provideService(References.MinimumLogLevel, "None")
    )
  )
})
