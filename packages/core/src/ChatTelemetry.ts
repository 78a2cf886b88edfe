/**
 * Metrics, spans and log annotations for chat calls, applied at the public
 * edge of `ResilientChat` (or around any stream of `StreamEvent`s).
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import type { ChatCompletion } from "./ChatCompletion.ts"
import type { ChatError } from "./ChatError.ts"
import type { ChatRequest } from "./ChatRequest.ts"
import { ErrorRateMonitor } from "./ErrorRateMonitor.ts"
import * as Span from "./internal/Span.ts"
import type { StreamEvent } from "./StreamEvent.ts"
import type { Usage } from "./Usage.ts"

/**
 * Requests by `operation` (`stream` | `complete`) and `outcome`
 * (`success` | `failure` | `interrupted`), with `provider` and `model`.
 *
 * @since 0.1.0
 */
export const requests = Metric.counter("steadystream_requests_total", {
  description: "Chat requests by operation and outcome",
  incremental: true
})

/**
 * Errors by `tag`: every error seen, whether it was recovered (`final`
 * `"false"`) or ended the request (`final` `"true"`).
 *
 * @since 0.1.0
 */
export const errors = Metric.counter("steadystream_errors_total", {
  description: "Chat errors by tag, recovered or final",
  incremental: true
})

/**
 * Retries (`retrying` events), by the error `tag` that caused them.
 *
 * @since 0.1.0
 */
export const retries = Metric.counter("steadystream_retries_total", {
  description: "Retries by the error that caused them",
  incremental: true
})

/**
 * Recoveries after content had already been delivered (a `retrying` or
 * `fallback` event after the first content event).
 *
 * @since 0.1.0
 */
export const midStreamRecoveries = Metric.counter("steadystream_midstream_recoveries_total", {
  description: "Recoveries after content had been delivered",
  incremental: true
})

/**
 * Fallback steps taken, by `step`.
 *
 * @since 0.1.0
 */
export const fallbacks = Metric.counter("steadystream_fallbacks_total", {
  description: "Fallback steps taken, by step",
  incremental: true
})

/**
 * Circuit breaker state changes, by `model` and new `state`.
 *
 * @since 0.1.0
 */
export const circuitStateChanges = Metric.counter("steadystream_circuit_state_changes_total", {
  description: "Circuit breaker state changes, by model and new state",
  incremental: true
})

/**
 * The state of each circuit breaker, by `circuit` (provider or step name and
 * model): 0 closed, 1 half-open, 2 open.
 *
 * @since 0.2.0
 */
export const circuitState = Metric.gauge("steadystream_circuit_state", {
  description: "Circuit breaker state by circuit: 0 closed, 1 half-open, 2 open"
})

/**
 * Rate-limit cooldowns met before a model attempt, by `model` (the circuit
 * key) and `outcome`: `waited` (the call waited it out) or `skipped` (too
 * long to wait: the step was skipped without a request).
 *
 * @since 0.2.0
 */
export const cooldowns = Metric.counter("steadystream_cooldowns_total", {
  description: "Rate-limit cooldowns met before a model attempt, waited out or skipped",
  incremental: true
})

/**
 * Operations on shared state (Redis) that ran on local state instead, by
 * `store` (`breaker`, `cooldown`, `cache`) and `op`: the shared store failed,
 * timed out, or was being skipped after an outage.
 *
 * @since 0.2.0
 */
export const sharedStateFallbacks = Metric.counter("steadystream_shared_state_fallbacks_total", {
  description: "Shared-state operations that fell back to local state",
  incremental: true
})

/**
 * Whether the shared state (Redis) answers: 1 up, 0 down (local state in use).
 *
 * @since 0.2.0
 */
export const sharedStateUp = Metric.gauge("steadystream_shared_state_up", {
  description: "Whether shared state (Redis) answers: 1 up, 0 down"
})

const stateValue = { Closed: 0, HalfOpen: 1, Open: 2 } as const

const latencyBoundaries = Metric.exponentialBoundaries({ start: 5, factor: 2, count: 14 })

/**
 * Time from the request to the first content event, in milliseconds.
 *
 * @since 0.1.0
 */
export const timeToFirstToken = Metric.histogram("steadystream_time_to_first_token_ms", {
  description: "Time from request to first content event (ms)",
  boundaries: latencyBoundaries
})

/**
 * Time from the request to the end of the stream or call, in milliseconds.
 *
 * @since 0.1.0
 */
export const duration = Metric.histogram("steadystream_request_duration_ms", {
  description: "Time from request to the end of the stream or call (ms)",
  boundaries: latencyBoundaries
})

/**
 * Records a circuit breaker state change of the circuit `key` (counted in
 * `circuitStateChanges` by model and new state, and set in `circuitState`).
 *
 * @since 0.1.0
 */
export const recordCircuitStateChange = (
  key: string,
  state: "Closed" | "HalfOpen" | "Open"
): Effect.Effect<void> =>
  Effect.andThen(
    Metric.update(Metric.withAttributes(circuitStateChanges, { model: key, state }), 1),
    Metric.update(Metric.withAttributes(circuitState, { circuit: key }), stateValue[state])
  )

type Outcome = "success" | "failure" | "interrupted"

const outcomeOf = <A, E>(exit: Exit.Exit<A, E>): Outcome =>
  Exit.isSuccess(exit) ? "success" : Exit.hasInterrupts(exit) ? "interrupted" : "failure"

const requestAttributes = (provider: string, request: ChatRequest): Record<string, unknown> => {
  const attributes: Record<string, unknown> = {
    "gen_ai.system": provider,
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": request.model
  }
  if (request.temperature !== undefined) attributes["gen_ai.request.temperature"] = request.temperature
  if (request.topP !== undefined) attributes["gen_ai.request.top_p"] = request.topP
  if (request.maxTokens !== undefined) attributes["gen_ai.request.max_tokens"] = request.maxTokens
  return attributes
}

/** The span of one streamed call. */
const spanName = "steadystream.chat.stream"

const annotateFinish = (reason: string, usage: Usage | undefined) =>
  Effect.annotateCurrentSpan(
    usage === undefined
      ? { "gen_ai.response.finish_reasons": [reason] }
      : {
          "gen_ai.response.finish_reasons": [reason],
          "gen_ai.usage.input_tokens": usage.inputTokens,
          "gen_ai.usage.output_tokens": usage.outputTokens
        }
  )

const countError = (attributes: Record<string, string>, error: ChatError, final: boolean) =>
  Metric.update(Metric.withAttributes(errors, { ...attributes, tag: error._tag, final: String(final) }), 1)

const finishRequest = Effect.fnUntraced(function* (
  attributes: Record<string, string>,
  operation: "stream" | "complete",
  startedAt: number,
  exit: Exit.Exit<unknown, ChatError>
) {
  const outcome = outcomeOf(exit)
  const now = yield* Clock.currentTimeMillis
  yield* Metric.update(Metric.withAttributes(requests, { ...attributes, operation, outcome }), 1)
  yield* Metric.update(Metric.withAttributes(duration, { ...attributes, operation }), now - startedAt)
  if (Exit.isFailure(exit)) {
    const error = Exit.findErrorOption(exit)
    if (Option.isSome(error)) yield* countError(attributes, error.value, true)
  }
  if (outcome !== "interrupted") {
    const monitor = yield* Effect.serviceOption(ErrorRateMonitor)
    if (Option.isSome(monitor)) yield* monitor.value.record(outcome === "success")
  }
})

/**
 * What one streamed call's events say, for the metrics and its span: handed
 * each batch of events as they go to the consumer.
 *
 * @since 0.2.0
 */
export interface CallObserver {
  /** The metric updates a batch calls for; `undefined` when it calls for none (the common case). */
  readonly events: (events: ReadonlyArray<StreamEvent>) => Effect.Effect<void> | undefined
}

/**
 * One observed call: its `CallObserver`, and `finish`, to run with the call's
 * exit (it counts the request and its outcome and records the duration).
 *
 * @since 0.2.0
 */
export interface ObservedCall extends CallObserver {
  readonly finish: (exit: Exit.Exit<unknown, ChatError>) => Effect.Effect<void>
  /**
   * Opens the call's `steadystream.chat.stream` span, which `finish` ends:
   * for a caller that gives the span to the fibers it starts, instead of
   * running them inside a span.
   */
  readonly openSpan: () => Effect.Effect<Tracer.Span>
}

// One object per call, its steps as methods; `finish` is handed on as a function.
class Observation implements ObservedCall {
  private delivered = false
  private opened: Tracer.Span | undefined = undefined
  private readonly attributes: Record<string, string>
  private readonly provider: string
  private readonly request: ChatRequest
  private readonly startedAt: number

  constructor(provider: string, request: ChatRequest, startedAt: number) {
    this.provider = provider
    this.request = request
    this.startedAt = startedAt
    this.attributes = { provider, model: request.model }
  }

  readonly finish = (exit: Exit.Exit<unknown, ChatError>): Effect.Effect<void> => {
    const recorded = finishRequest(this.attributes, "stream", this.startedAt, exit)
    return this.opened === undefined ? recorded : Effect.andThen(Span.end(this.opened, exit), recorded)
  }

  openSpan(): Effect.Effect<Tracer.Span> {
    return Effect.map(
      Effect.makeSpan(spanName, { attributes: requestAttributes(this.provider, this.request) }),
      (span) => {
        this.opened = span
        return span
      }
    )
  }

  events(events: ReadonlyArray<StreamEvent>): Effect.Effect<void> | undefined {
    if (events.length === 1) return this.one(events[0] as StreamEvent)
    let all: Effect.Effect<void> | undefined
    for (const event of events) {
      const effect = this.one(event)
      if (effect !== undefined) all = all === undefined ? effect : Effect.andThen(all, effect)
    }
    return all
  }

  private one(event: StreamEvent): Effect.Effect<void> | undefined {
    const attributes = this.attributes
    switch (event.type) {
      case "text-delta":
      case "tool-call-delta": {
        if (this.delivered) return undefined
        this.delivered = true
        return Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Metric.update(Metric.withAttributes(timeToFirstToken, attributes), now - this.startedAt)
        )
      }
      case "finish":
        return annotateFinish(event.reason, event.usage)
      case "retrying":
        return this.recovery(
          Metric.update(Metric.withAttributes(retries, { ...attributes, tag: event.error._tag }), 1),
          event.error
        )
      case "fallback":
        return this.recovery(
          Metric.update(Metric.withAttributes(fallbacks, { ...attributes, step: event.step }), 1),
          event.error
        )
      default:
        return undefined
    }
  }

  private recovery(counter: Effect.Effect<void>, error: ChatError): Effect.Effect<void> {
    return Effect.all(
      [
        counter,
        countError(this.attributes, error, false),
        this.delivered
          ? Metric.update(Metric.withAttributes(midStreamRecoveries, this.attributes), 1)
          : Effect.void
      ],
      { discard: true }
    )
  }
}

/**
 * Starts observing one streamed call (what {@link observeCall} does, for a
 * caller that runs `finish` itself, without wrapping its stream).
 *
 * @since 0.2.0
 */
export const startCall = (provider: string, request: ChatRequest): Effect.Effect<ObservedCall> =>
  Effect.map(Clock.currentTimeMillis, (startedAt) => new Observation(provider, request, startedAt))

/**
 * Observes one streamed call whose events are reported to the
 * `CallObserver` it is built with (the way `ResilientChat` reports them, on
 * the one route its events take to the consumer): counts requests, errors,
 * retries, mid-stream recoveries and fallbacks, measures time to first token
 * and duration, and wraps the call in a `steadystream.chat.stream` span with
 * the GenAI semantic attributes. When an `ErrorRateMonitor` is in the
 * context, each outcome is recorded in it.
 *
 * **Details**
 *
 * Only the request's model options are recorded, never message content or a
 * key. Metrics are updated only on the first content event, on recovery
 * events and at the finish; other batches cost one type check per event.
 *
 * @since 0.2.0
 */
export const observeCall =
  (provider: string, request: ChatRequest) =>
  <R>(make: (observer: CallObserver) => Stream.Stream<StreamEvent, ChatError, R>) =>
    Stream.unwrap(
      Effect.map(startCall(provider, request), (call) =>
        Stream.onExit(make(call), call.finish).pipe(
          Stream.withSpan(spanName, { attributes: requestAttributes(provider, request) })
        )
      )
    )

/**
 * Observes a stream of `StreamEvent`s like {@link observeCall}, looking at
 * each event as it passes.
 *
 * @since 0.1.0
 */
export const observeStream =
  (provider: string, request: ChatRequest) =>
  <R>(stream: Stream.Stream<StreamEvent, ChatError, R>): Stream.Stream<StreamEvent, ChatError, R> =>
    observeCall(
      provider,
      request
    )((observer) => Stream.tap(stream, (event) => observer.events([event]) ?? Effect.void))

/**
 * Observes a non-streaming call like {@link observeStream}.
 *
 * @since 0.1.0
 */
export const observeComplete =
  (provider: string, request: ChatRequest) =>
  <R>(effect: Effect.Effect<ChatCompletion, ChatError, R>): Effect.Effect<ChatCompletion, ChatError, R> =>
    Effect.flatMap(Clock.currentTimeMillis, (startedAt) => {
      const attributes = { provider, model: request.model }
      return effect.pipe(
        Effect.tap((completion) => annotateFinish(completion.finishReason, completion.usage)),
        Effect.onExit((exit) => finishRequest(attributes, "complete", startedAt, exit)),
        Effect.withSpan("steadystream.chat.complete", { attributes: requestAttributes(provider, request) })
      )
    })
