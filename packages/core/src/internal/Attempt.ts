/**
 * One attempt against one model: streamed (with first-token and idle
 * deadlines) or non-streaming, or a whole answer from the cache or a static
 * text. Every attempt delivers only new content and returns the `finish`
 * event, which the caller emits.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Pull from "effect/Pull"
import * as Stream from "effect/Stream"
import type { ChatCompletion } from "../ChatCompletion.ts"
import { type ChatError, StreamTruncated, Timeout, type TimeoutPhase } from "../ChatError.ts"
import type { Service as ChatModelService } from "../ChatModel.ts"
import type { ChatRequest } from "../ChatRequest.ts"
import type { ModelEvent } from "../ModelEvent.ts"
import type { Finish, StreamEvent } from "../StreamEvent.ts"
import * as Delivery from "./Delivery.ts"

/** Hands events to the consumer: one, or a batch (one handoff for a whole pulled chunk). */
export type Emit = (event: StreamEvent | ReadonlyArray<StreamEvent>) => Effect.Effect<void>

/** A model to call: the service, the model name, and the circuit breaker key. */
export interface Target {
  readonly service: ChatModelService
  readonly model: string
  readonly streaming: boolean
  readonly key: string
}

/** Who answered, for errors. */
export interface Source {
  readonly provider: string
  readonly model: string
}

const sourceOf = (target: Target): Source => ({ provider: target.service.provider, model: target.model })

const truncated = (source: Source, delivered: Delivery.Delivered, message: string) =>
  new StreamTruncated({ provider: source.provider, model: source.model, message, delivered: delivered.text })

const diverged = (source: Source, delivered: Delivery.Delivered, result: Delivery.Diverged) =>
  truncated(
    source,
    delivered,
    `Recovery diverged: tool call ${result.index} does not replay what was delivered`
  )

const emitTool = (
  source: Source,
  delivered: Delivery.Delivered,
  result: ReturnType<Delivery.Attempt["tool"]>,
  emit: Emit
): Effect.Effect<void, ChatError> =>
  result === undefined
    ? Effect.void
    : result instanceof Delivery.Diverged
      ? Effect.fail(diverged(source, delivered, result))
      : emit(result)

const emitText = (text: string, emit: Emit): Effect.Effect<void> =>
  text === "" ? Effect.void : emit({ type: "text-delta", delta: text })

/**
 * Streams one attempt. The stream's first event must come within
 * `firstToken`, each next one within `idle`; a stream that ends without a
 * `finish` event is a `StreamTruncated` error.
 *
 * `guard` (the circuit breaker) covers the start of the answer only: up to
 * the first chunk.
 *
 * This is the hot loop: one deadline (a plain number) is moved on each pulled
 * chunk and watched by a single timer fiber, instead of arming a timer per
 * chunk; the content of a whole pulled chunk is handed over in one batch.
 */
export const streamed = (
  target: Target,
  request: ChatRequest,
  delivered: Delivery.Delivered,
  options: {
    readonly firstToken: Duration.Duration
    readonly idle: Duration.Duration
    readonly minOverlap: number
  },
  emit: Emit,
  guard: <A>(first: Effect.Effect<A, ChatError>) => Effect.Effect<A, ChatError> = identity
): Effect.Effect<Finish, ChatError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const clock = yield* Clock.Clock
      const filter = Delivery.attempt(delivered, options.minOverlap)
      const pull = yield* Stream.toPull(target.service.stream(request))
      const idleMillis = Duration.toMillis(options.idle)
      let phase: TimeoutPhase = "first-token"
      let deadline = clock.currentTimeMillisUnsafe() + Duration.toMillis(options.firstToken)

      const watchdog = Effect.gen(function* () {
        while (true) {
          const left = deadline - clock.currentTimeMillisUnsafe()
          if (left <= 0) {
            const duration = phase === "first-token" ? options.firstToken : options.idle
            return yield* Effect.fail(
              new Timeout({
                provider: target.service.provider,
                model: target.model,
                phase,
                timeout: duration,
                message: `No ${phase === "first-token" ? "first event" : "event"} within ${Duration.format(duration)}`
              })
            )
          }
          // The deadline only moves later, except once: from first-token to the (shorter) idle one after
          // the first chunk. Waking at least every `idle` catches that too, and exactly on time.
          yield* Effect.sleep(Duration.millis(Math.min(left, idleMillis)))
        }
      })

      const next = Effect.flatMap(
        Pull.catchDone(pull, () => Effect.succeed(undefined)),
        (chunk) =>
          chunk === undefined
            ? Effect.fail(truncated(sourceOf(target), delivered, "The stream ended without a finish event"))
            : Effect.succeed(chunk)
      )

      // Hands over the content of one chunk; the finish event when the chunk holds it.
      const out: Array<StreamEvent> = []
      const take = (chunk: ReadonlyArray<ModelEvent>): Effect.Effect<Finish | undefined, ChatError> => {
        phase = "idle"
        deadline = clock.currentTimeMillisUnsafe() + idleMillis
        let finish: Finish | undefined
        for (const event of chunk) {
          if (event.type === "text-delta") {
            const text = filter.text(event.delta)
            if (text !== "") out.push({ type: "text-delta", delta: text })
          } else if (event.type === "tool-call-delta") {
            const tool = filter.tool(event)
            if (tool instanceof Delivery.Diverged) {
              return Effect.andThen(
                out.length > 0 ? emit(out.splice(0)) : Effect.void,
                Effect.fail(diverged(sourceOf(target), delivered, tool))
              )
            }
            if (tool !== undefined) out.push(tool)
          } else {
            const text = filter.flush()
            if (text !== "") out.push({ type: "text-delta", delta: text })
            finish = event
            break
          }
        }
        return out.length > 0 ? Effect.as(emit(out.splice(0)), finish) : Effect.succeed(finish)
      }

      const rest = Effect.gen(function* () {
        while (true) {
          const finish = yield* take(yield* next)
          if (finish !== undefined) return finish
        }
      })

      // The circuit breaker judges the model by whether the answer starts: connecting, the status and
      // the first chunk. What happens after that is the connection's business, and a success recorded
      // only at the end of a long stream would let fast failures of concurrent calls line up against
      // it. The first-token deadline stays outside the guard: raced inside it (inside the breaker's
      // uninterruptible region), 50 concurrent calls saw spurious first-token timeouts that tripped
      // the breaker in the goodput bench; outside, an expired deadline interrupts the guarded pull,
      // which the breaker ignores.
      const first = yield* Effect.raceFirst(guard(next), watchdog)
      const finish = yield* Effect.raceFirst(take(first), watchdog)
      if (finish !== undefined) return finish
      return yield* Effect.raceFirst(rest, watchdog)
    })
  )

const finishOf = (completion: ChatCompletion): Finish => ({
  type: "finish",
  reason: completion.finishReason,
  ...(completion.rawFinishReason === undefined ? {} : { rawReason: completion.rawFinishReason }),
  ...(completion.usage === undefined ? {} : { usage: completion.usage })
})

const deliverTools = (
  source: Source,
  delivered: Delivery.Delivered,
  filter: Delivery.Attempt,
  completion: ChatCompletion,
  emit: Emit
) =>
  Effect.forEach(
    completion.toolCalls ?? [],
    (call, index) =>
      emitTool(
        source,
        delivered,
        filter.tool({
          type: "tool-call-delta",
          index,
          id: call.id,
          name: call.name,
          argumentsDelta: call.arguments
        }),
        emit
      ),
    { discard: true }
  )

/** One non-streaming call; its text is read as a continuation of the delivered text. */
export const completed = (
  target: Target,
  request: ChatRequest,
  delivered: Delivery.Delivered,
  minOverlap: number,
  emit: Emit
): Effect.Effect<Finish, ChatError> =>
  Effect.gen(function* () {
    const completion = yield* target.service.complete(request)
    const filter = Delivery.attempt(delivered, minOverlap)
    yield* emitText(filter.text(completion.text) + filter.flush(), emit)
    yield* deliverTools(sourceOf(target), delivered, filter, completion, emit)
    return finishOf(completion)
  })

/**
 * A whole answer (cached or static): used only when it starts with the
 * delivered text; otherwise `StreamTruncated`, never incoherent text.
 */
export const whole = (
  source: Source,
  completion: ChatCompletion,
  delivered: Delivery.Delivered,
  emit: Emit
): Effect.Effect<Finish, ChatError> =>
  Effect.gen(function* () {
    const filter = Delivery.attempt(delivered, 1)
    const rest = filter.whole(completion.text)
    if (rest === undefined) {
      return yield* Effect.fail(
        truncated(source, delivered, "The fallback answer does not start with the text already delivered")
      )
    }
    yield* emitText(rest, emit)
    yield* deliverTools(source, delivered, filter, completion, emit)
    return finishOf(completion)
  })
