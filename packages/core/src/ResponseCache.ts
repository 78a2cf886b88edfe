/**
 * Successful answers stored per request, for the `cached` fallback step, in
 * an `effect/persistence` `KeyValueStore` (in memory by default; any store by
 * layer).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import { ChatCompletion } from "./ChatCompletion.ts"
import type { ChatRequest } from "./ChatRequest.ts"

/**
 * The cache's shape. Both operations never fail: a store error is logged and
 * reads as a miss (a cache must not break the call it is rescuing).
 *
 * @since 0.1.0
 */
export interface Service {
  readonly get: (request: ChatRequest) => Effect.Effect<ChatCompletion | undefined>
  readonly set: (request: ChatRequest, completion: ChatCompletion) => Effect.Effect<void>
}

/**
 * Service key of the response cache.
 *
 * @since 0.1.0
 */
export class ResponseCache extends Context.Service<ResponseCache, Service>()(
  "@steadystream/core/ResponseCache"
) {}

/**
 * The key of a request: its canonical JSON (object keys sorted), so two
 * requests share a key exactly when they are equal.
 *
 * **Gotchas**
 *
 * The key is the whole request, prompt included. Point a shared store (Redis,
 * SQL) at it only if prompts may be stored there.
 *
 * @since 0.1.0
 */
export const key = (request: ChatRequest): string => `steadystream:chat:${canonical(request)}`

const canonical = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`
  }
  return JSON.stringify(value)
}

/**
 * Builds the cache over the current `KeyValueStore`.
 *
 * @since 0.1.0
 */
export const make = Effect.fnUntraced(function* () {
  const store = KeyValueStore.toSchemaStore(yield* KeyValueStore.KeyValueStore, ChatCompletion)
  return ResponseCache.of({
    get: (request) =>
      store.get(key(request)).pipe(
        Effect.map(Option.getOrUndefined),
        Effect.catchCause((cause) =>
          Effect.as(Effect.logWarning("SteadyStream: response cache read failed", cause), undefined)
        )
      ),
    set: (request, completion) =>
      store
        .set(key(request), completion)
        .pipe(
          Effect.catchCause((cause) => Effect.logWarning("SteadyStream: response cache write failed", cause))
        )
  })
})

/**
 * The cache over any `KeyValueStore` you provide.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<ResponseCache, never, KeyValueStore.KeyValueStore> = Layer.effect(
  ResponseCache,
  make()
)

/**
 * The cache in memory (a fresh `KeyValueStore.layerMemory` per layer build).
 *
 * **Gotchas**
 *
 * The in-memory store keeps every distinct request's answer for the life of
 * the layer; it has no size bound. For long-running servers provide a store
 * with eviction through {@link layer}.
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<ResponseCache> = Layer.provide(layer, KeyValueStore.layerMemory)
