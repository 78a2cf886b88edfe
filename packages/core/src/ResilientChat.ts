/**
 * What applications use: a chat stream that survives rate limits, dropped
 * connections, stalls and outages without losing or repeating a character of
 * the text the consumer sees.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as CircuitBreaker from "effect/persistence/CircuitBreaker"
import type * as Redis from "effect/persistence/Redis"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import { type ChatCompletion, fromEvents } from "./ChatCompletion.ts"
import type { ChatError } from "./ChatError.ts"
import { ChatModel } from "./ChatModel.ts"
import * as ChatRequest from "./ChatRequest.ts"
import * as ChatTelemetry from "./ChatTelemetry.ts"
import * as Breaker from "./internal/Breaker.ts"
import * as Call from "./internal/Call.ts"
import * as Chain from "./internal/Chain.ts"
import * as Cooldown from "./internal/Cooldown.ts"
import type { Engine } from "./internal/Engine.ts"
import * as Handoff from "./internal/Handoff.ts"
import * as Route from "./internal/Route.ts"
import * as ResiliencePolicy from "./ResiliencePolicy.ts"
import * as ResponseCache from "./ResponseCache.ts"
import * as RetrySchedule from "./RetrySchedule.ts"
import * as SharedState from "./SharedState.ts"
import type { StreamEvent } from "./StreamEvent.ts"

/**
 * The shape of the service.
 *
 * **Details**
 *
 * - `stream` emits content (`text-delta`, `tool-call-delta`), the recovery
 *   steps (`retrying`, `fallback`), and on success exactly one `finish` as
 *   its last event. Concatenating its `text-delta`s gives one coherent
 *   answer: nothing repeated, nothing lost.
 * - `complete` is the same call folded into a `ChatCompletion`.
 *
 * Both validate the request first (an invalid one fails with
 * `InvalidRequest`, before any call) and fail only with a typed `ChatError`.
 *
 * `stream(request, { delivered })` (since 0.2.0) finishes an answer whose
 * first part the consumer already has (from another process that died, say):
 * the first attempt is a continuation of `delivered`, verified like any
 * mid-stream recovery, and only the rest is emitted.
 *
 * @since 0.1.0
 */
export interface Service {
  readonly stream: (
    request: ChatRequest.ChatRequest,
    options?: { readonly delivered?: string }
  ) => Stream.Stream<StreamEvent, ChatError>
  readonly complete: (request: ChatRequest.ChatRequest) => Effect.Effect<ChatCompletion, ChatError>
}

/**
 * Service key of the resilient chat.
 *
 * @since 0.1.0
 */
export class ResilientChat extends Context.Service<ResilientChat, Service>()(
  "@steadystream/core/ResilientChat"
) {}

/**
 * Builds the service from the current `ChatModel`, `ResponseCache` and
 * `CircuitBreakerStore`.
 *
 * **Details**
 *
 * One call runs the primary streaming model, then each fallback step in
 * order. A failure is retried on the same step while the retry schedule
 * allows it (one schedule, so one retry budget, for the whole call); then the
 * chain moves on. The `total` deadline covers everything. When nothing is
 * left the stream fails with the last error; when the deadline ends it fails
 * with `Timeout { phase: "total" }`.
 *
 * **Gotchas**
 *
 * - After content was delivered, every model attempt is a continuation
 *   request: the delivered text as the last (assistant) message, after a
 *   system instruction unless the target continues natively. No part of a
 *   continuation is emitted before it is verified to continue the delivered
 *   text; one that restarts or cannot be verified fails the attempt with a
 *   retryable `ContinuationRejected`.
 * - A target that can resume (`ChatModel.resumable`, e.g. the Responses API
 *   in background mode) is resumed instead: after a break or a stall, the
 *   next attempt picks up the same generation after the newest checkpoint
 *   (a `retrying` event, the same retry budget and deadline; in every
 *   `midStream` mode, since nothing is generated twice). A refused or expired
 *   resume (`NotFound`, `InvalidRequest`) goes on at once by a continuation.
 *   A generation the call abandons (an interrupted or early-stopping
 *   consumer, a call that gives up) is cancelled in the background, bounded
 *   by 5 seconds: the consumer never waits for it.
 * - After a non-retryable error, later steps that would call the same model
 *   again (the default `nonStreaming` step after a 401, say) are skipped.
 * - A retry whose delay would end past the `total` deadline is not waited
 *   for: the chain moves on to the next step at once.
 * - A 429's Retry-After holds every call of the layer (see `ResiliencePolicy`).
 * - Cached and static steps are never retried.
 * - Recovery never uses `Stream.retry` (it restarts its schedule after every
 *   element and replays output): each attempt is a fresh model stream whose
 *   already-delivered content is filtered out.
 * - Interrupting the consumer (or taking fewer events) interrupts the running
 *   attempt and any backoff wait: nothing outlives the stream.
 * - Only answers that came from a model are written to the cache (never a
 *   static answer), and only when the chain has a `cached` step.
 * - Every retry and fallback is also logged at warning level. Effect's
 *   default logger writes to stdout: a CLI whose stdout is the answer should
 *   provide `Logger.LogToStderr` (or its own logger).
 * - Every call is observed by `ChatTelemetry` (metrics, a span with the GenAI
 *   attributes, and the `ErrorRateMonitor` when one is in the context).
 *
 * @since 0.1.0
 */
export const make = Effect.fnUntraced(function* (policy?: ResiliencePolicy.ResiliencePolicy) {
  const resolved = ResiliencePolicy.resolve(policy)
  const primary = yield* ChatModel
  const steps = yield* Chain.make(primary, resolved.fallback)
  const engine: Engine = {
    provider: primary.provider,
    steps,
    resumable: steps.some((step) => step._tag === "Target" && step.resumable),
    kind: { _tag: "Model", minOverlap: resolved.continuation.minOverlap },
    policy: resolved,
    deadlines: resolved.timeouts,
    guard: yield* Breaker.make(resolved.circuitBreaker),
    cooldown: yield* Cooldown.make(resolved.retry.maxRetryAfter),
    cache: yield* ResponseCache.ResponseCache,
    caching: resolved.fallback.some((step) => step._tag === "Cached")
  }
  const schedule = RetrySchedule.fromPolicy(resolved.retry)
  const producer = (
    request: ChatRequest.ChatRequest,
    observer: ChatTelemetry.CallObserver,
    span?: Tracer.Span,
    delivered = ""
  ) => Call.producer(engine, schedule, request, Route.toSink(observer, delivered), span)

  const unobserved: ChatTelemetry.CallObserver = { events: () => undefined }

  // One stream layer per call: the request is validated, observed and produced in the stream's own scope,
  // which records how the call ended and ends its span.
  const stream: Service["stream"] = (input, options) =>
    Handoff.stream((scope) =>
      Effect.flatMap(ChatRequest.validate(input, primary.provider), (request) =>
        Effect.flatMap(ChatTelemetry.startCall(primary.provider, request), (call) =>
          Effect.andThen(
            Scope.addFinalizerExit(scope, call.finish),
            Effect.map(call.openSpan(), (span) => producer(request, call, span, options?.delivered))
          )
        )
      )
    )

  const complete = (input: ChatRequest.ChatRequest): Effect.Effect<ChatCompletion, ChatError> =>
    Effect.flatMap(ChatRequest.validate(input, primary.provider), (request) =>
      Effect.map(
        Stream.runCollect(Handoff.stream(() => Effect.succeed(producer(request, unobserved)))),
        (all) => fromEvents(all, request.model)
      ).pipe(ChatTelemetry.observeComplete(primary.provider, request))
    )

  return ResilientChat.of({ stream, complete })
})

/**
 * The resilient chat over a `ChatModel`, with its response cache and
 * circuit breaker state supplied by you (any `KeyValueStore` through
 * `ResponseCache.layer`, any `CircuitBreakerStore`, e.g. Redis, to share
 * breaker state between instances).
 *
 * Rate-limit cooldowns live in the context's `RateLimiterStore` if there is
 * one, else in memory (shared by the calls of this layer).
 *
 * @since 0.1.0
 */
export const layerWithStores = (
  policy?: ResiliencePolicy.ResiliencePolicy
): Layer.Layer<
  ResilientChat,
  never,
  ChatModel | ResponseCache.ResponseCache | CircuitBreaker.CircuitBreakerStore
> => Layer.effect(ResilientChat, make(policy))

/**
 * The resilient chat over a `ChatModel`, with an in-memory response cache and
 * circuit breaker store.
 *
 * **Example**
 *
 * ```ts
 * const Chat = ResilientChat.layer({
 *   retry: { maxRetries: 2 },
 *   timeouts: { idle: "10 seconds" },
 *   fallback: [FallbackStep.model("gpt-4o-mini"), FallbackStep.cached, FallbackStep.staticAnswer("Please try again later.")]
 * }).pipe(Layer.provide(OpenAiChatModel.layerConfig()))
 * ```
 *
 * **Gotchas**
 *
 * Cache and breaker state live as long as the layer: build it once per
 * application, not per request, or the breaker never sees a streak.
 *
 * @since 0.1.0
 */
export const layer = (
  policy?: ResiliencePolicy.ResiliencePolicy
): Layer.Layer<ResilientChat, never, ChatModel> =>
  layerWithStores(policy).pipe(
    Layer.provide(Layer.merge(ResponseCache.layerMemory, CircuitBreaker.layerStoreMemory()))
  )

/**
 * The resilient chat of a fleet: every instance on the same Redis and prefix
 * shares the per-model circuit breakers, the rate-limit cooldowns (a 429 one
 * meets is waited out by all: a `cooldown` event) and the response cache.
 * Redis failing never fails a call (see `SharedState.layerRedis`).
 *
 * **Example**
 *
 * ```ts
 * const Chat = ResilientChat.layerRedis(policy, { prefix: "myapp:" }).pipe(
 *   Layer.provide([OpenAiChatModel.layerConfig(), NodeRedis.layer({ url: "redis://localhost:6379" })])
 * )
 * ```
 *
 * @since 0.2.0
 */
export const layerRedis = (
  policy?: ResiliencePolicy.ResiliencePolicy,
  options: SharedState.Options = {}
): Layer.Layer<ResilientChat, never, ChatModel | Redis.Redis> =>
  layerWithStores(policy).pipe(Layer.provide(SharedState.layerRedis(options)))
