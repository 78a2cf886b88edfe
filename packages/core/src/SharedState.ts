/**
 * The state a fleet of `ResilientChat` instances shares on Redis: the
 * per-model circuit breakers, the rate-limit cooldowns and the response
 * cache, each falling back to a local store of its kind while Redis fails or
 * does not answer in time. What `ResilientChat.layerRedis` runs on.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as CircuitBreaker from "effect/persistence/CircuitBreaker"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as RateLimiter from "effect/persistence/RateLimiter"
import type * as Redis from "effect/persistence/Redis"
import type * as Scope from "effect/Scope"
import * as Degrade from "./internal/Degrade.ts"
import * as RedisKeyValueStore from "./RedisKeyValueStore.ts"
import * as ResponseCache from "./ResponseCache.ts"

/**
 * Where the state lives on Redis, and how an outage is handled.
 *
 * **Details**
 *
 * - `prefix` (default `"steadystream:"`): keys are `${prefix}breaker:…`
 *   (one hash per circuit), `${prefix}cooldown:…:adaptive` (one hash per
 *   model) and `${prefix}cache:…` (one string per answer, and an `index`).
 *   Instances share state exactly when they share Redis and prefix.
 * - `cache`: `timeToLive` (default 1 hour) and `maxEntries` (default 1000,
 *   oldest evicted first) of the response cache.
 * - `timeout` (default 500 ms): a Redis operation slower than that counts as
 *   an outage; `pause` (default 5 s): how long Redis is then left alone
 *   before it is tried again.
 *
 * @since 0.2.0
 */
export interface Options {
  readonly prefix?: string
  readonly cache?: { readonly timeToLive?: Duration.Input; readonly maxEntries?: number }
  readonly timeout?: Duration.Input
  readonly pause?: Duration.Input
}

const build = <I, S, E, R>(layer: Layer.Layer<I, E, R>, key: Context.Key<I, S>) =>
  Effect.map(Layer.build(layer), (context) => Context.get(context, key))

// Admissions from the local store carry a negative generation (Redis's are positive), so an outcome
// is recorded where its call was admitted.
const toLocal = (generation: number) => -generation - 1

const breakerStore = (
  degrade: Degrade.Degrade,
  shared: CircuitBreakerStore,
  local: CircuitBreakerStore
): CircuitBreakerStore => {
  const isOutage = (error: CircuitBreaker.CircuitBreakerError) =>
    error.reason._tag === "CircuitBreakerStoreError"
  return {
    admit: (key) =>
      degrade.run(
        { store: "breaker", op: "admit" },
        shared.admit(key),
        Effect.map(local.admit(key), (admission) => ({
          ...admission,
          generation: toLocal(admission.generation)
        })),
        isOutage
      ),
    record: (options) =>
      options.generation < 0
        ? local.record({ ...options, generation: toLocal(options.generation) })
        : degrade.run({ store: "breaker", op: "record" }, shared.record(options), Effect.undefined, isOutage),
    state: (key) =>
      degrade.run({ store: "breaker", op: "state" }, shared.state(key), local.state(key), isOutage)
  }
}

type CircuitBreakerStore = CircuitBreaker.CircuitBreakerStore["Service"]
type RateLimiterStore = RateLimiter.RateLimiterStore["Service"]

const cooldownStore = (
  degrade: Degrade.Degrade,
  shared: RateLimiterStore,
  local: RateLimiterStore
): RateLimiterStore => {
  const isOutage = (error: RateLimiter.RateLimiterError) => error.reason._tag === "RateLimitStoreError"
  return {
    fixedWindow: (options) =>
      degrade.run(
        { store: "cooldown", op: "fixedWindow" },
        shared.fixedWindow(options),
        local.fixedWindow(options),
        isOutage
      ),
    tokenBucket: (options) =>
      degrade.run(
        { store: "cooldown", op: "tokenBucket" },
        shared.tokenBucket(options),
        local.tokenBucket(options),
        isOutage
      ),
    adaptiveConsume: (options) =>
      degrade.run(
        { store: "cooldown", op: "consume" },
        shared.adaptiveConsume(options),
        local.adaptiveConsume(options),
        isOutage
      ),
    adaptiveFeedback: (options) =>
      degrade.run(
        { store: "cooldown", op: "feedback" },
        shared.adaptiveFeedback(options),
        local.adaptiveFeedback(options),
        isOutage
      )
  }
}

// The local cache while Redis is down: in memory, oldest entries evicted past `max`.
const boundedMemory = (max: number): KeyValueStore.KeyValueStore => {
  const entries = new Map<string, string>()
  return KeyValueStore.makeStringOnly({
    get: (key) => Effect.sync(() => entries.get(key)),
    set: (key, value) =>
      Effect.sync(() => {
        entries.delete(key)
        entries.set(key, value)
        for (const oldest of entries.keys()) {
          if (entries.size <= max) break
          entries.delete(oldest)
        }
      }),
    remove: (key) => Effect.sync(() => void entries.delete(key)),
    clear: Effect.sync(() => entries.clear()),
    size: Effect.sync(() => entries.size),
    keys: Effect.sync(() => [...entries.keys()])
  })
}

const cacheStore = (
  degrade: Degrade.Degrade,
  shared: KeyValueStore.KeyValueStore,
  local: KeyValueStore.KeyValueStore
): KeyValueStore.KeyValueStore => {
  const isOutage = () => true
  return KeyValueStore.makeStringOnly({
    get: (key) => degrade.run({ store: "cache", op: "get" }, shared.get(key), local.get(key), isOutage),
    set: (key, value) =>
      degrade.run({ store: "cache", op: "set" }, shared.set(key, value), local.set(key, value), isOutage),
    remove: (key) =>
      degrade.run({ store: "cache", op: "remove" }, shared.remove(key), local.remove(key), isOutage),
    clear: degrade.run({ store: "cache", op: "clear" }, shared.clear, local.clear, isOutage),
    size: degrade.run({ store: "cache", op: "size" }, shared.size, local.size, isOutage),
    keys: degrade.run({ store: "cache", op: "keys" }, shared.keys, local.keys, isOutage)
  })
}

/**
 * The three stores on the current `Redis` under `prefix`, for
 * `ResilientChat.layerWithStores`.
 *
 * **Gotchas**
 *
 * - Redis failing never fails a call: each operation falls back to local
 *   state (in memory, this instance only), logged once per outage and counted
 *   in `steadystream_shared_state_fallbacks_total`; the gauge
 *   `steadystream_shared_state_up` shows which is in use.
 * - Breaker outcomes of calls admitted by Redis that end during an outage are
 *   lost; state learned locally during an outage is not copied to Redis.
 * - Redis is probed again by the first operation after `pause`: when it is
 *   still down, that operation waits `timeout` before falling back.
 * - The cache key is the whole request, prompt included.
 * - Use one policy per prefix: instances with different breaker policies on
 *   one prefix share circuits whose trip rules disagree.
 *
 * @since 0.2.0
 */
export const layerRedis = (
  options: Options = {}
): Layer.Layer<
  CircuitBreaker.CircuitBreakerStore | RateLimiter.RateLimiterStore | ResponseCache.ResponseCache,
  never,
  Redis.Redis
> =>
  Layer.unwrap(
    Effect.gen(function* (): Effect.fn.Return<
      Layer.Layer<
        CircuitBreaker.CircuitBreakerStore | RateLimiter.RateLimiterStore | ResponseCache.ResponseCache
      >,
      never,
      Redis.Redis | Scope.Scope
    > {
      const prefix = options.prefix ?? "steadystream:"
      const maxEntries = options.cache?.maxEntries ?? 1000
      const degrade = yield* Degrade.make({
        timeout: Duration.fromInputUnsafe(options.timeout ?? "500 millis"),
        pause: Duration.fromInputUnsafe(options.pause ?? "5 seconds")
      })
      const breakers = breakerStore(
        degrade,
        yield* build(
          CircuitBreaker.layerStoreRedis({ prefix: `${prefix}breaker:` }),
          CircuitBreaker.CircuitBreakerStore
        ),
        yield* build(CircuitBreaker.layerStoreMemory(), CircuitBreaker.CircuitBreakerStore)
      )
      const cooldowns = cooldownStore(
        degrade,
        yield* RateLimiter.makeStoreRedis({ prefix: `${prefix}cooldown:` }),
        yield* build(RateLimiter.layerStoreMemory, RateLimiter.RateLimiterStore)
      )
      const cache = cacheStore(
        degrade,
        yield* RedisKeyValueStore.make({
          prefix: `${prefix}cache:`,
          maxEntries,
          ...(options.cache?.timeToLive === undefined ? {} : { timeToLive: options.cache.timeToLive })
        }),
        boundedMemory(maxEntries)
      )
      return Layer.mergeAll(
        Layer.succeed(CircuitBreaker.CircuitBreakerStore, breakers),
        Layer.succeed(RateLimiter.RateLimiterStore, cooldowns),
        ResponseCache.layer.pipe(Layer.provide(Layer.succeed(KeyValueStore.KeyValueStore, cache)))
      )
    })
  )
