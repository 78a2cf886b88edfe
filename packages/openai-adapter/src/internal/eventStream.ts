/**
 * One streaming HTTP response as a stream of model events, for both APIs:
 * each read of the body becomes the model events of every SSE frame it
 * completes, in one batch; the API's `Decoder` maps frames and says where the
 * answer ends. Interrupting the stream aborts the request; a body that ends
 * before the decoder saw the end is a typed `ChatError`, never a quiet end.
 *
 * @internal
 */
import type { ChatError, ModelEvent } from "@steadystream/core"
import type * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Errors from "./errors.ts"
import * as Sse from "./sse.ts"

/** How one API reads its frames. */
export interface Decoder {
  /**
   * Appends the model events of `frames` to `out`; returns `true` once the
   * answer's last frame was read (frames after it are ignored). Throws a
   * `ChatError` for a failed or malformed stream.
   */
  readonly decode: (frames: ReadonlyArray<Sse.Event>, out: Array<ModelEvent.ModelEvent>) => boolean
  /** Why a body that ended before the last frame is truncated, e.g. "the body ended without [DONE]". */
  readonly truncation: () => string
  /** The text this stream delivered so far, for `StreamTruncated`. */
  readonly delivered: () => string
}

const END = Symbol("END")

const makeReader = (body: ReadableStream<Uint8Array>, context: Errors.Context, decoder: Decoder) => {
  const reader = body.getReader()
  const sse = Sse.make()
  const frames: Array<Sse.Event> = []
  let finished = false
  let ended = false
  // An error found after some events of the same read: those events go first, the error next time.
  let failure: { readonly error: unknown } | undefined
  return {
    get finished() {
      return finished
    },
    next: async (): Promise<Arr.NonEmptyReadonlyArray<ModelEvent.ModelEvent>> => {
      if (failure !== undefined) throw failure.error
      const out: Array<ModelEvent.ModelEvent> = []
      while (!finished) {
        if (ended) {
          throw Errors.fromUnknown(new Error(decoder.truncation()), context, decoder.delivered(), Date.now())
        }
        const result = await reader.read()
        if (result.done) {
          ended = true
          sse.end(frames)
        } else sse.push(result.value, frames)
        try {
          if (decoder.decode(frames, out)) {
            finished = true
            void reader.cancel().catch(() => undefined)
          }
        } catch (error) {
          if (out.length === 0) throw error
          failure = { error }
        }
        frames.length = 0
        if (out.length > 0) return out as unknown as Arr.NonEmptyReadonlyArray<ModelEvent.ModelEvent>
      }
      throw END
    }
  }
}

/**
 * The events of the streaming response that `open` starts (with the SDK's
 * `.asResponse()`, so the body is decoded here, one batch per read).
 * `context` builds the error context, with the request id once headers
 * arrived.
 */
export const make = (options: {
  readonly open: (signal: AbortSignal) => Promise<Response>
  readonly context: (requestId: string | undefined) => Errors.Context
  readonly decoder: (context: Errors.Context) => Decoder
}): Stream.Stream<ModelEvent.ModelEvent, ChatError.ChatError> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const controller = new AbortController()
      let reader: ReturnType<typeof makeReader> | undefined
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          if (reader === undefined || !reader.finished) controller.abort()
        })
      )
      const base = options.context(undefined)
      const response = yield* Effect.tryPromise({
        try: () => options.open(controller.signal),
        catch: (error) => Errors.fromUnknown(error, base, undefined, Date.now())
      })
      const context = options.context(response.headers.get("x-request-id") ?? undefined)
      if (response.body === null) {
        return yield* Effect.fail(
          Errors.fromUnknown(new Error("the streaming response has no body"), context, "", Date.now())
        )
      }
      const decoder = options.decoder(context)
      const current = makeReader(response.body, context, decoder)
      reader = current
      const pull = Effect.tryPromise({
        try: current.next,
        catch: (error): ChatError.ChatError | Cause.Done =>
          error === END ? Cause.Done() : Errors.fromUnknown(error, context, decoder.delivered(), Date.now())
      })
      return Stream.fromPull(Effect.succeed(pull))
    })
  )
