import * as NodeRedis from "@effect/platform-node/NodeRedis"
import { assert, describe, layer } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as Redis from "effect/persistence/Redis"
import * as RedisKeyValueStore from "../src/RedisKeyValueStore.ts"
import * as RedisServer from "./RedisServer.ts"

/** A connection to the suite's server for the test's scope; while Redis is down, commands fail at once. */
const connect = Effect.gen(function* () {
  const server = yield* RedisServer.Server
  return Context.get(
    yield* Layer.build(NodeRedis.layer({ url: server.url, disableOfflineQueue: true })),
    Redis.Redis
  )
}).pipe(Effect.orDie)

const withStore = (options: RedisKeyValueStore.Options) =>
  Effect.flatMap(connect, (redis) =>
    Effect.provideService(RedisKeyValueStore.make(options), Redis.Redis, redis)
  )

describe("RedisKeyValueStore", () => {
  layer(RedisServer.layer, { excludeTestServices: true })((it) => {
    it.effect("stores, reads and removes strings under its prefix", () =>
      Effect.gen(function* () {
        const store = yield* withStore({ prefix: "kv1:" })
        yield* store.set("a", "1")
        assert.strictEqual(yield* store.get("a"), "1")
        assert.isUndefined(yield* store.get("missing"))
        assert.deepStrictEqual(yield* store.keys, ["a"])
        yield* store.remove("a")
        assert.isUndefined(yield* store.get("a"))
        assert.strictEqual(yield* store.size, 0)
      })
    )

    it.effect("evicts the oldest entries past maxEntries", () =>
      Effect.gen(function* () {
        const store = yield* withStore({ prefix: "kv2:", maxEntries: 3 })
        for (const key of ["a", "b", "c", "d", "e"]) {
          yield* store.set(key, key)
          yield* Effect.sleep("2 millis")
        }
        assert.strictEqual(yield* store.size, 3)
        assert.isUndefined(yield* store.get("a"))
        assert.isUndefined(yield* store.get("b"))
        assert.strictEqual(yield* store.get("e"), "e")
      })
    )

    it.effect("forgets entries after timeToLive, index included", () =>
      Effect.gen(function* () {
        const store = yield* withStore({ prefix: "kv3:", timeToLive: "150 millis" })
        yield* store.set("a", "1")
        assert.strictEqual(yield* store.get("a"), "1")
        yield* Effect.sleep("300 millis")
        assert.isUndefined(yield* store.get("a"))
        assert.strictEqual(yield* store.size, 0)
        const redis = yield* connect
        assert.deepStrictEqual(yield* Effect.orDie(redis.send<Array<string>>("KEYS", "kv3:*")), [])
      })
    )

    it.effect("fails with KeyValueStoreError when Redis is gone", () =>
      Effect.gen(function* () {
        const server = yield* RedisServer.Server
        const store = yield* withStore({ prefix: "kv4:" })
        yield* store.set("a", "1")
        yield* server.stop
        const error = yield* Effect.flip(store.get("a"))
        yield* server.start
        assert.instanceOf(error, KeyValueStore.KeyValueStoreError)
      })
    )
  })
})
