/**
 * What applications use: a chat stream that survives rate limits, dropped
 * connections, stalls and outages without losing or repeating a character of
 * the text the consumer sees.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as CircuitBreaker from "effect/persistence/CircuitBreaker"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import { type ChatCompletion, fromEvents } from "./ChatCompletion.ts"
import { type ChatError, NotFound, StreamTruncated, Timeout } from "./ChatError.ts"
import { ChatModel, type Service as ChatModelService } from "./ChatModel.ts"
import * as ChatRequest from "./ChatRequest.ts"
import * as ChatTelemetry from "./ChatTelemetry.ts"
import * as FallbackStep from "./FallbackStep.ts"
import * as Attempt from "./internal/Attempt.ts"
import * as Breaker from "./internal/Breaker.ts"
import * as Delivery from "./internal/Delivery.ts"
import * as ResiliencePolicy from "./ResiliencePolicy.ts"
import * as ResponseCache from "./ResponseCache.ts"
import * as RetrySchedule from "./RetrySchedule.ts"
import type { Finish, StreamEvent } from "./StreamEvent.ts"

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
 * @since 0.1.0
 */
export interface Service {
  readonly stream: (request: ChatRequest.ChatRequest) => Stream.Stream<StreamEvent, ChatError>
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

type Step =
  | Exclude<FallbackStep.FallbackStep, { readonly _tag: "ChatModel" }>
  | {
      readonly _tag: "Other"
      readonly name: string
      readonly service: ChatModelService
      readonly model: string | undefined
      readonly streaming: boolean
    }

const sameTarget = (a: Attempt.Target) => (b: Attempt.Target) =>
  a.service === b.service && a.model === b.model

/** How many events may wait for a slow consumer before the producer pauses. */
const bufferSize = 16

/**
 * A call that ends with `StreamTruncated` reports all the text the consumer
 * received, not only the part its last attempt (a continuation) delivered.
 */
const withDelivered = (error: ChatError, delivered: Delivery.Delivered): ChatError =>
  error._tag === "StreamTruncated" && error.delivered !== delivered.text
    ? new StreamTruncated({
        provider: error.provider,
        model: error.model,
        message: error.message,
        ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
        ...(error.status === undefined ? {} : { status: error.status }),
        delivered: delivered.text
      })
    : error

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
 *   system instruction. Its output is trimmed of any repeated tail.
 * - After a non-retryable error, later steps that would call the same model
 *   again (the default `nonStreaming` step after a 401, say) are skipped.
 * - A retry whose delay would end past the `total` deadline is not waited
 *   for: the chain moves on to the next step at once.
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
  const cache = yield* ResponseCache.ResponseCache
  const guard = yield* Breaker.make(resolved.circuitBreaker)
  const schedule = RetrySchedule.fromPolicy(resolved.retry)
  const caching = resolved.fallback.some((step) => step._tag === "Cached")
  const steps: Array<Step | { readonly _tag: "Primary" }> = [{ _tag: "Primary" }]
  for (const step of resolved.fallback) {
    if (step._tag !== "ChatModel") steps.push(step)
    else {
      const service: ChatModelService = Layer.isLayer(step.chatModel)
        ? Context.get(yield* Layer.build(step.chatModel as Layer.Layer<ChatModel>), ChatModel)
        : (step.chatModel as ChatModelService)
      steps.push({ _tag: "Other", name: step.name, service, model: step.model, streaming: step.streaming })
    }
  }
  const { firstToken, idle, total } = resolved.timeouts
  const { instruction, minOverlap } = resolved.continuation

  const targetOf = (
    step: Step | { readonly _tag: "Primary" },
    request: ChatRequest.ChatRequest
  ): Attempt.Target | undefined => {
    switch (step._tag) {
      case "Primary":
      case "NonStreaming":
        return {
          service: primary,
          model: request.model,
          streaming: step._tag === "Primary",
          key: `${primary.provider}:${request.model}`
        }
      case "Model":
        return {
          service: primary,
          model: step.model,
          streaming: step.streaming,
          key: `${primary.provider}:${step.model}`
        }
      case "Other": {
        const model = step.model ?? request.model
        return { service: step.service, model, streaming: step.streaming, key: `${step.name}:${model}` }
      }
      default:
        return undefined
    }
  }

  const run = Effect.fnUntraced(function* (request: ChatRequest.ChatRequest, emit: Attempt.Emit) {
    const delivered = Delivery.make()
    const decide = yield* RetrySchedule.decider(schedule, resolved.retry.maxRetryAfter)
    const deadline = (yield* Clock.currentTimeMillis) + Duration.toMillis(total)
    const dead: Array<Attempt.Target> = []
    let retries = 0
    let lastError: ChatError | undefined

    const attempt = (
      step: Step | { readonly _tag: "Primary" },
      target: Attempt.Target | undefined
    ): Effect.Effect<Finish, ChatError> => {
      if (target !== undefined) {
        const next = Delivery.continuationRequest({ ...request, model: target.model }, delivered, instruction)
        const source = { key: target.key, provider: target.service.provider, model: target.model }
        const call = target.streaming
          ? Attempt.streamed(target, next, delivered, { firstToken, idle, minOverlap }, emit, (first) =>
              guard(source, first)
            )
          : guard(source, Attempt.completed(target, next, delivered, minOverlap, emit))
        return Effect.withSpan(call, "steadystream.chat.attempt", {
          attributes: {
            "gen_ai.system": target.service.provider,
            "gen_ai.request.model": target.model,
            "steadystream.attempt.streaming": target.streaming,
            "steadystream.attempt.continuation": delivered.text !== ""
          }
        })
      }
      if (step._tag === "Static") {
        return Attempt.whole({ provider: "static", model: request.model }, step.completion, delivered, emit)
      }
      return Effect.flatMap(cache.get(request), (completion) =>
        completion === undefined
          ? Effect.fail(
              new NotFound({ provider: "cache", model: request.model, message: "No cached response" })
            )
          : Attempt.whole({ provider: "cache", model: request.model }, completion, delivered, emit)
      )
    }

    for (const [index, step] of steps.entries()) {
      const target = targetOf(step, request)
      if (target !== undefined && dead.some(sameTarget(target))) continue
      if (index > 0 && lastError !== undefined) {
        const name =
          step._tag === "Other"
            ? `chat-model:${step.name}`
            : step._tag === "Primary"
              ? "primary"
              : FallbackStep.name(step)
        yield* Effect.logWarning("SteadyStream: falling back").pipe(
          Effect.annotateLogs({ step: name, error: lastError._tag, reason: lastError.message })
        )
        yield* emit({ type: "fallback", step: name, error: lastError })
      }
      while (true) {
        const result = yield* Effect.result(attempt(step, target))
        if (result._tag === "Success") {
          if (caching && target !== undefined) {
            yield* cache.set(request, Delivery.toCompletion(delivered, result.success, target.model))
          }
          return yield* emit(result.success)
        }
        const error = result.failure
        lastError = error
        if (resolved.midStream === "fail" && Delivery.hasContent(delivered)) {
          return yield* Effect.fail(
            error.isRetryable
              ? new StreamTruncated({
                  provider: error.provider,
                  model: error.model,
                  message: `Stream failed after content was delivered (midStream: "fail"): ${error.message}`,
                  delivered: delivered.text
                })
              : error
          )
        }
        if (target === undefined) break
        const decision = yield* decide(error)
        if (decision._tag === "GiveUp") {
          if (decision.reason === "non-retryable" && error._tag !== "CircuitOpen") dead.push(target)
          break
        }
        const now = yield* Clock.currentTimeMillis
        if (now + Duration.toMillis(decision.delay) >= deadline) break
        retries++
        yield* Effect.logWarning("SteadyStream: retrying").pipe(
          Effect.annotateLogs({
            provider: target.service.provider,
            model: target.model,
            attempt: retries,
            delayMillis: Duration.toMillis(decision.delay),
            error: error._tag,
            reason: error.message
          })
        )
        yield* emit({ type: "retrying", attempt: retries, delay: decision.delay, error })
        yield* Effect.sleep(decision.delay)
      }
    }
    return yield* Effect.fail(withDelivered(lastError as ChatError, delivered))
  })

  const events = (request: ChatRequest.ChatRequest): Stream.Stream<StreamEvent, ChatError> =>
    Stream.callback<StreamEvent, ChatError>(
      (queue) =>
        run(request, (events) =>
          "type" in events
            ? Effect.asVoid(Queue.offer(queue, events))
            : Effect.asVoid(Queue.offerAll(queue, events))
        ).pipe(
          Effect.timeoutOrElse({
            duration: total,
            orElse: () =>
              Effect.fail(
                new Timeout({
                  provider: primary.provider,
                  model: request.model,
                  phase: "total",
                  timeout: total,
                  message: `The call did not finish within ${Duration.format(total)}`
                })
              )
          }),
          Effect.andThen(Queue.end(queue))
        ),
      { bufferSize }
    )

  const stream = (input: ChatRequest.ChatRequest): Stream.Stream<StreamEvent, ChatError> =>
    Stream.unwrap(
      Effect.map(ChatRequest.validate(input, primary.provider), (request) =>
        events(request).pipe(ChatTelemetry.observeStream(primary.provider, request))
      )
    )

  const complete = (input: ChatRequest.ChatRequest): Effect.Effect<ChatCompletion, ChatError> =>
    Effect.flatMap(ChatRequest.validate(input, primary.provider), (request) =>
      Effect.map(Stream.runCollect(events(request)), (all) => fromEvents(all, request.model)).pipe(
        ChatTelemetry.observeComplete(primary.provider, request)
      )
    )

  return ResilientChat.of({ stream, complete })
})

/**
 * The resilient chat over a `ChatModel`, with its response cache and
 * circuit breaker state supplied by you (any `KeyValueStore` through
 * `ResponseCache.layer`, any `CircuitBreakerStore`, e.g. Redis, to share
 * breaker state between instances).
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
