/**
 * An in-memory `ChatModel` driven by a per-call script: events, failures at a
 * given event, stalls and non-streaming answers. It records every call it
 * receives and how each ended. Deterministic under `TestClock`: its only
 * waits are `Effect.sleep`. With `resumable`, it also resumes broken
 * streams from a checkpoint (each resume is a `"stream"` call with a `cursor`) and
 * records cancelled generations.
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
import type { ModelEvent, ResumeCursor } from "../ModelEvent.ts"
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
  /** Set on a `resumable.resume` call (a `"stream"` call): where it resumes from. @since 0.2.0 */
  readonly cursor?: ResumeCursor
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
  /**
   * Offer `resumable` (default `false`): a resume takes the next turn like
   * any call, and a cancel is recorded in `cancels`. @since 0.2.0
   */
  readonly resumable?: boolean
}

/**
 * The recorder side of a scripted model.
 *
 * @since 0.1.0
 */
export interface Service {
  readonly calls: Effect.Effect<ReadonlyArray<Call>>
  /** The cursors of the generations `resumable.cancel` was called for, in order. @since 0.2.0 */
  readonly cancels: Effect.Effect<ReadonlyArray<ResumeCursor>>
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

/**
 * `events` with a `checkpoint` of generation `id` after each content event,
 * numbered from 1 (so `sequence` counts the content events before it), as a
 * resumable adapter emits them.
 *
 * @since 0.2.0
 */
export const checkpointed = (id: string, events: ReadonlyArray<ModelEvent>): Array<ModelEvent> => {
  const out: Array<ModelEvent> = []
  let sequence = 0
  for (const event of events) {
    out.push(event)
    if (event.type !== "finish" && event.type !== "checkpoint") {
      out.push({ type: "checkpoint", cursor: { id, sequence: ++sequence } })
    }
  }
  return out
}

/**
 * What a resume from `sequence` streams: the events of `events` after its
 * checkpoint with that sequence number (all of them when there is none).
 *
 * @since 0.2.0
 */
export const after = (events: ReadonlyArray<ModelEvent>, sequence: number): Array<ModelEvent> =>
  events.slice(
    events.findIndex((event) => event.type === "checkpoint" && event.cursor.sequence === sequence) + 1
  )

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
  const cancels = yield* Ref.make<ReadonlyArray<ResumeCursor>>([])

  const update = (index: number, f: (call: Call) => Call) =>
    Ref.update(calls, (all) => all.map((call) => (call.index === index ? f(call) : call)))

  const begin = (kind: Call["kind"], request: ChatRequest, cursor?: ResumeCursor) =>
    Ref.modify(calls, (all) => {
      const index = all.length
      const call = { index, kind, request, ...(cursor === undefined ? {} : { cursor }) }
      const turn = typeof options.script === "function" ? options.script(call) : options.script[index]
      return [{ index, turn }, [...all, { ...call, emitted: 0, outcome: "running" as const }]] as const
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

  const streamCall = (request: ChatRequest, cursor?: ResumeCursor): Stream.Stream<ModelEvent, ChatError> =>
    Stream.unwrap(
      Effect.map(begin("stream", request, cursor), ({ index, turn }) => {
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
    )

  const chatModel: ChatModelService = {
    provider,
    stream: (request) => streamCall(request),
    ...(options.resumable === true
      ? {
          resumable: {
            resume: (cursor, request) => streamCall(request, cursor),
            cancel: (cursor) => Ref.update(cancels, (all) => [...all, cursor])
          }
        }
      : {}),
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
  return { chatModel, recorder: { calls: Ref.get(calls), cancels: Ref.get(cancels) } satisfies Service }
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
