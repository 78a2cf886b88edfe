/**
 * One attempt against one model: streamed (with first-token and idle
 * deadlines) or non-streaming, or a whole answer from the cache or a static
 * text. Every attempt delivers only new content and returns the `finish`
 * event, which the caller emits.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Pull from "effect/Pull"
import * as Stream from "effect/Stream"
import type { ChatCompletion } from "../ChatCompletion.ts"
import { type ChatError, StreamTruncated, Timeout, type TimeoutPhase } from "../ChatError.ts"
import type { Service as ChatModelService } from "../ChatModel.ts"
import type { ChatRequest } from "../ChatRequest.ts"
import type { Finish, StreamEvent } from "../StreamEvent.ts"
import * as Delivery from "./Delivery.ts"

export type Emit = (event: StreamEvent) => Effect.Effect<void>

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

const emitTool = (
  source: Source,
  delivered: Delivery.Delivered,
  result: ReturnType<Delivery.Attempt["tool"]>,
  emit: Emit
): Effect.Effect<void, ChatError> =>
  result === undefined
    ? Effect.void
    : result instanceof Delivery.Diverged
      ? Effect.fail(
          truncated(
            source,
            delivered,
            `Recovery diverged: tool call ${result.index} does not replay what was delivered`
          )
        )
      : emit(result)

const emitText = (text: string, emit: Emit): Effect.Effect<void> =>
  text === "" ? Effect.void : emit({ type: "text-delta", delta: text })

/**
 * Streams one attempt. The stream's first event must come within
 * `firstToken`, each next one within `idle`; a stream that ends without a
 * `finish` event is a `StreamTruncated` error.
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
  emit: Emit
): Effect.Effect<Finish, ChatError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const filter = Delivery.attempt(delivered, options.minOverlap)
      const pull = yield* Stream.toPull(target.service.stream(request))
      const timeout = (phase: TimeoutPhase, duration: Duration.Duration) =>
        new Timeout({
          provider: target.service.provider,
          model: target.model,
          phase,
          timeout: duration,
          message: `No ${phase === "first-token" ? "first event" : "event"} within ${Duration.format(duration)}`
        })
      let first = true
      while (true) {
        const [phase, duration] = first
          ? (["first-token", options.firstToken] as const)
          : (["idle", options.idle] as const)
        const chunk = yield* pull.pipe(
          Pull.catchDone(() => Effect.succeed(undefined)),
          Effect.timeoutOrElse({ duration, orElse: () => Effect.fail(timeout(phase, duration)) })
        )
        if (chunk === undefined) {
          return yield* Effect.fail(
            truncated(sourceOf(target), delivered, "The stream ended without a finish event")
          )
        }
        first = false
        for (const event of chunk) {
          if (event.type === "text-delta") yield* emitText(filter.text(event.delta), emit)
          else if (event.type === "tool-call-delta")
            yield* emitTool(sourceOf(target), delivered, filter.tool(event), emit)
          else {
            yield* emitText(filter.flush(), emit)
            return event
          }
        }
      }
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
