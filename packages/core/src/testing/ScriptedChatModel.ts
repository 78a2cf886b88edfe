/**
 * An in-memory `ChatModel` driven by a per-call script: events, failures at a
 * given event, stalls and non-streaming answers. It records every call it
 * receives and how each ended. Deterministic under `TestClock`: its only
 * waits are `Effect.sleep`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import { type ChatCompletion, fromEvents } from "../ChatCompletion.ts"
import type { ChatError } from "../ChatError.ts"
import { ChatModel, type Service as ChatModelService } from "../ChatModel.ts"
import type { ChatRequest } from "../ChatRequest.ts"
import type { FinishReason } from "../FinishReason.ts"
import type { ModelEvent } from "../ModelEvent.ts"
import type { Usage } from "../Usage.ts"

/**
 * What one call does.
 *
 * - `Stream`: emit `events` (waiting `delay` before each), then end; or fail
 *   with `failAt.error` after `failAt.index` events; or stall forever after
 *   `stallAt` events. On a `complete` call the same events are folded into a
 *   completion.
 * - `Fail`: fail at once (before any event) with `error`.
 * - `Complete`: answer a `complete` call with `completion`; on a `stream` call
 *   it is a scripting mistake and dies.
 *
 * @since 0.1.0
 */
export type Turn =
  | {
      readonly _tag: "Stream"
      readonly events: ReadonlyArray<ModelEvent>
      readonly failAt?: { readonly index: number; readonly error: ChatError }
      readonly stallAt?: number
      readonly delay?: Duration.Input
    }
  | { readonly _tag: "Fail"; readonly error: ChatError; readonly delay?: Duration.Input }
  | { readonly _tag: "Complete"; readonly completion: ChatCompletion; readonly delay?: Duration.Input }

/**
 * One call the model received, and how it has ended so far.
 *
 * @since 0.1.0
 */
export interface Call {
  readonly index: number
  readonly kind: "stream" | "complete"
  readonly request: ChatRequest
  /** Content and finish events emitted so far. */
  readonly emitted: number
  readonly outcome: "running" | "success" | "failure" | "interrupted"
}

/**
 * The script: a list consumed one turn per call (stream and complete calls
 * share it), or a function of the call, for answers that depend on the
 * request (a continuation, say).
 *
 * @since 0.1.0
 */
export type Script = ReadonlyArray<Turn> | ((call: Omit<Call, "emitted" | "outcome">) => Turn)

/**
 * @since 0.1.0
 */
export interface Options {
  readonly script: Script
  /** Default `"scripted"`. */
  readonly provider?: string
}

/**
 * The recorder side of a scripted model.
 *
 * @since 0.1.0
 */
export interface Service {
  readonly calls: Effect.Effect<ReadonlyArray<Call>>
}

/**
 * Service key for the recorder, provided beside `ChatModel` by {@link layer}.
 *
 * @since 0.1.0
 */
export class ScriptedChatModel extends Context.Service<ScriptedChatModel, Service>()(
  "@steadystream/core/testing/ScriptedChatModel"
) {}

/**
 * A `Stream` turn.
 *
 * @since 0.1.0
 */
export const stream = (
  events: ReadonlyArray<ModelEvent>,
  options: {
    readonly failAt?: { readonly index: number; readonly error: ChatError }
    readonly stallAt?: number
    readonly delay?: Duration.Input
  } = {}
): Turn => ({ _tag: "Stream", events, ...options })

/**
 * A turn that fails before any event.
 *
 * @since 0.1.0
 */
export const fail = (error: ChatError, options: { readonly delay?: Duration.Input } = {}): Turn => ({
  _tag: "Fail",
  error,
  ...options
})

/**
 * A non-streaming answer. A string is a completion with that text and finish
 * reason `stop`.
 *
 * @since 0.1.0
 */
export const complete = (
  completion: ChatCompletion | string,
  options: { readonly delay?: Duration.Input } = {}
): Turn => ({
  _tag: "Complete",
  completion: typeof completion === "string" ? { text: completion, finishReason: "stop" } : completion,
  ...options
})

/**
 * Splits `text` into `text-delta` events of `chunkSize` UTF-16 code units
 * (default 4; so a surrogate pair may be split, as real providers do), or into
 * the given `chunks`, followed by one `finish` event.
 *
 * @since 0.1.0
 */
export const textEvents = (
  text: string | ReadonlyArray<string>,
  options: { readonly chunkSize?: number; readonly reason?: FinishReason; readonly usage?: Usage } = {}
): Array<ModelEvent> => {
  const chunks = typeof text === "string" ? chunk(text, Math.max(1, options.chunkSize ?? 4)) : text
  const events: Array<ModelEvent> = chunks.map((delta) => ({ type: "text-delta", delta }))
  events.push(
    options.usage === undefined
      ? { type: "finish", reason: options.reason ?? "stop" }
      : { type: "finish", reason: options.reason ?? "stop", usage: options.usage }
  )
  return events
}

const chunk = (text: string, size: number): Array<string> => {
  const out: Array<string> = []
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size))
  return out
}

/**
 * Builds a scripted model and its recorder.
 *
 * **Gotchas**
 *
 * A call past the end of a list script, or a `Complete` turn on a `stream`
 * call, dies with a message naming the call: these are mistakes in the test,
 * not failures of the model.
 *
 * @since 0.1.0
 */
export const make = Effect.fnUntraced(function* (options: Options) {
  const provider = options.provider ?? "scripted"
  const calls = yield* Ref.make<ReadonlyArray<Call>>([])

  const update = (index: number, f: (call: Call) => Call) =>
    Ref.update(calls, (all) => all.map((call) => (call.index === index ? f(call) : call)))

  const begin = (kind: Call["kind"], request: ChatRequest) =>
    Ref.modify(calls, (all) => {
      const index = all.length
      const turn =
        typeof options.script === "function"
          ? options.script({ index, kind, request })
          : options.script[index]
      return [
        { index, turn },
        [...all, { index, kind, request, emitted: 0, outcome: "running" as const }]
      ] as const
    }).pipe(
      Effect.flatMap(({ index, turn }) =>
        turn === undefined
          ? Effect.die(new Error(`ScriptedChatModel: no turn scripted for call ${index} (${kind})`))
          : Effect.succeed({ index, turn })
      )
    )

  const outcomeOf = <A, E>(exit: Exit.Exit<A, E>): Call["outcome"] =>
    Exit.isSuccess(exit) ? "success" : Exit.hasInterrupts(exit) ? "interrupted" : "failure"

  const wait = (delay: Duration.Input | undefined) =>
    delay === undefined ? Effect.void : Effect.sleep(delay)

  const streamTurn = (
    index: number,
    turn: Extract<Turn, { _tag: "Stream" }>
  ): Stream.Stream<ModelEvent, ChatError> => {
    const failIndex = turn.failAt?.index ?? Number.POSITIVE_INFINITY
    const stallIndex = turn.stallAt ?? Number.POSITIVE_INFINITY
    const cut = Math.min(failIndex, stallIndex, turn.events.length)
    const emitted = Stream.fromArray(turn.events.slice(0, cut)).pipe(
      Stream.mapEffect((event) =>
        wait(turn.delay).pipe(
          Effect.andThen(update(index, (c) => ({ ...c, emitted: c.emitted + 1 }))),
          Effect.as(event)
        )
      )
    )
    const end: Stream.Stream<never, ChatError> =
      turn.failAt !== undefined && failIndex <= stallIndex && failIndex <= turn.events.length
        ? Stream.fail(turn.failAt.error)
        : stallIndex <= turn.events.length
          ? Stream.never
          : Stream.empty
    return Stream.concat(emitted, end)
  }

  const chatModel: ChatModelService = {
    provider,
    stream: (request) =>
      Stream.unwrap(
        Effect.map(begin("stream", request), ({ index, turn }) => {
          const body: Stream.Stream<ModelEvent, ChatError> =
            turn._tag === "Stream"
              ? streamTurn(index, turn)
              : turn._tag === "Fail"
                ? Stream.fromEffect(Effect.andThen(wait(turn.delay), Effect.fail(turn.error)))
                : Stream.die(
                    new Error(`ScriptedChatModel: call ${index} is a stream call but its turn is Complete`)
                  )
          return Stream.onExit(body, (exit) => update(index, (c) => ({ ...c, outcome: outcomeOf(exit) })))
        })
      ),
    complete: (request) =>
      Effect.flatMap(begin("complete", request), ({ index, turn }) => {
        const answer: Effect.Effect<ChatCompletion, ChatError> =
          turn._tag === "Complete"
            ? Effect.as(wait(turn.delay), turn.completion)
            : turn._tag === "Fail"
              ? Effect.andThen(wait(turn.delay), Effect.fail(turn.error))
              : Effect.map(Stream.runCollect(streamTurn(index, turn)), (events) => fromEvents(events))
        return Effect.onExit(answer, (exit) => update(index, (c) => ({ ...c, outcome: outcomeOf(exit) })))
      })
  }
  return { chatModel, recorder: { calls: Ref.get(calls) } satisfies Service }
})

/**
 * Provides `ChatModel` (scripted) and `ScriptedChatModel` (its recorder).
 *
 * **Example**
 *
 * ```ts
 * const Model = ScriptedChatModel.layer({
 *   script: [
 *     ScriptedChatModel.fail(new RateLimited({ provider: "scripted", model: "m", message: "slow down" })),
 *     ScriptedChatModel.stream(ScriptedChatModel.textEvents("Hello, world"))
 *   ]
 * })
 * ```
 *
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<ChatModel | ScriptedChatModel> =>
  Layer.effectContext(
    Effect.map(make(options), ({ chatModel, recorder }) =>
      Context.make(ChatModel, chatModel).pipe(Context.add(ScriptedChatModel, recorder))
    )
  )
