/**
 * A bounded `KeyValueStore` on Redis, over effect's client-agnostic `Redis`
 * service: every entry expires after `timeToLive`, and past `maxEntries` the
 * oldest entries are evicted. The response cache of `ResilientChat.layerRedis`.
 *
 * @since 0.2.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as Redis from "effect/persistence/Redis"

/**
 * Where entries live and how many.
 *
 * **Details**
 *
 * Defaults: `prefix` `"steadystream:kv:"`, `timeToLive` 1 hour, `maxEntries`
 * 1000. Each entry is one string key, `${prefix}${key}`; a sorted set at
 * `${prefix}index` orders them by the time they were written (Redis time).
 *
 * @since 0.2.0
 */
export interface Options {
  readonly prefix?: string
  readonly timeToLive?: Duration.Input
  readonly maxEntries?: number
}

// KEYS: the index, the entry. ARGV: value, time to live (ms), max entries, prefix.
// Writes the entry with its TTL, drops index members that expired, then evicts the oldest past the bound.
const setScript = Redis.script(
  (index: string, key: string, value: string, ttl: number, max: number, prefix: string) => [
    index,
    key,
    value,
    ttl,
    max,
    prefix
  ],
  {
    numberOfKeys: 2,
    lua: `
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
redis.call("SET", KEYS[2], ARGV[1], "PX", ttl)
redis.call("ZADD", KEYS[1], now, KEYS[2])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now - ttl)
local over = redis.call("ZCARD", KEYS[1]) - max
if over > 0 then
  local oldest = redis.call("ZRANGE", KEYS[1], 0, over - 1)
  redis.call("ZREM", KEYS[1], unpack(oldest))
  redis.call("DEL", unpack(oldest))
end
redis.call("PEXPIRE", KEYS[1], ttl)
return 1
`
  }
)

// KEYS: the index. ARGV: time to live (ms). The live entries' keys, oldest first.
const liveScript = Redis.script((index: string, ttl: number) => [index, ttl], {
  numberOfKeys: 1,
  lua: `
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now - tonumber(ARGV[1]))
return redis.call("ZRANGE", KEYS[1], 0, -1)
`
}).withReturnType<ReadonlyArray<string>>()

/**
 * Builds the store over the current `Redis` service.
 *
 * **Gotchas**
 *
 * - Redis errors surface as `KeyValueStoreError`s; `ResilientChat.layerRedis`
 *   falls back to local state on them, a bare store does not.
 * - `timeToLive` and `maxEntries` are clamped to at least 1 ms and 1 entry.
 * - Eviction deletes keys that a script did not declare: fine on one Redis
 *   (or a replica set), not on Redis Cluster.
 *
 * @since 0.2.0
 */
export const make = Effect.fnUntraced(function* (options: Options = {}) {
  const redis = yield* Redis.Redis
  const prefix = options.prefix ?? "steadystream:kv:"
  const ttl = Math.max(
    1,
    Math.ceil(Duration.toMillis(Duration.fromInputUnsafe(options.timeToLive ?? "1 hour")))
  )
  const max = Math.max(1, Math.floor(options.maxEntries ?? 1000))
  const index = `${prefix}index`
  const set = redis.eval(setScript)
  const live = redis.eval(liveScript)

  const fail = (method: string, key?: string) => (error: Redis.RedisError) =>
    new KeyValueStore.KeyValueStoreError({
      method,
      message: `Redis ${method} failed`,
      cause: error.cause,
      ...(key === undefined ? {} : { key })
    })
  const keys = Effect.mapError(live(index, ttl), fail("keys"))

  return KeyValueStore.makeStringOnly({
    get: (key) =>
      redis.send<string | null>("GET", `${prefix}${key}`).pipe(
        Effect.map((value) => value ?? undefined),
        Effect.mapError(fail("get", key))
      ),
    set: (key, value) =>
      Effect.mapError(
        Effect.asVoid(set(index, `${prefix}${key}`, value, ttl, max, prefix)),
        fail("set", key)
      ),
    remove: (key) =>
      Effect.mapError(
        Effect.andThen(redis.send("ZREM", index, `${prefix}${key}`), redis.send("DEL", `${prefix}${key}`)),
        fail("remove", key)
      ).pipe(Effect.asVoid),
    clear: Effect.flatMap(keys, (all) =>
      Effect.mapError(Effect.asVoid(redis.send("DEL", index, ...all)), fail("clear"))
    ),
    size: Effect.map(keys, (all) => all.length),
    keys: Effect.map(keys, (all) => all.map((key) => key.slice(prefix.length)))
  })
})

/**
 * The store as a layer over the current `Redis` service.
 *
 * **Example**
 *
 * ```ts
 * const Cache = ResponseCache.layer.pipe(
 *   Layer.provide(RedisKeyValueStore.layer({ timeToLive: "10 minutes", maxEntries: 500 })),
 *   Layer.provide(NodeRedis.layer({ url: "redis://localhost:6379" }))
 * )
 * ```
 *
 * @since 0.2.0
 */
export const layer = (options: Options = {}): Layer.Layer<KeyValueStore.KeyValueStore, never, Redis.Redis> =>
  Layer.effect(KeyValueStore.KeyValueStore, make(options))
