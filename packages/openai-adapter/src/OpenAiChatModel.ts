/**
 * The `ChatModel` port over the official `openai` SDK (Chat Completions):
 * streaming and non-streaming, typed errors, no retries of its own, and
 * interruption that aborts the HTTP request.
 *
 * @since 0.1.0
 */
import {
  type ChatCompletion,
  type ChatError,
  ChatModel,
  type ChatRequest,
  type ModelEvent
} from "@steadystream/core"
import type * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { ChatCompletionChunk } from "openai/resources/chat/completions"
import * as ChunkShape from "./internal/chunkShape.ts"
import * as Chunks from "./internal/chunks.ts"
import * as Errors from "./internal/errors.ts"
import * as Params from "./internal/params.ts"
import * as Sse from "./internal/sse.ts"
import * as OpenAiClient from "./OpenAiClient.ts"

/**
 * Options of {@link layer}: the client's options plus an optional pre-flight
 * check at layer build.
 *
 * @since 0.1.0
 */
export interface Options extends OpenAiClient.Options {
  /** Check the key and the connection (`GET /v1/models`) when the layer is built. Default `false`. */
  readonly preflight?: boolean | { readonly timeout?: Duration.Input }
}

/** The provider name used in every error. */
const provider = Errors.provider

const END = Symbol("END")

const errorContext = (service: OpenAiClient.Service, model: string, requestId?: string): Errors.Context => ({
  model,
  secret: Redacted.value(service.apiKey),
  timeout: service.timeout,
  requestId
})

/**
 * Reads one streaming response: each read of the body → the model events of
 * every SSE frame it completes, in one batch. Throws `END` after the finish
 * event, a `ChatError` for a truncated or failed stream.
 */
const makeReader = (body: ReadableStream<Uint8Array>, context: Errors.Context, state: Chunks.State) => {
  const reader = body.getReader()
  const decoder = Sse.make()
  const frames: Array<Sse.Event> = []
  let finished = false
  let ended = false
  // An error found after some events of the same read: those events go first, the error next time.
  let failure: { readonly error: unknown } | undefined
  const truncated = (why: string) => Errors.fromUnknown(new Error(why), context, state.delivered, Date.now())

  /** The events of the decoded frames, up to and including the finish at `[DONE]`. */
  const drain = (out: Array<ModelEvent.ModelEvent>) => {
    for (const frame of frames) {
      const data = frame.data
      if (data === "[DONE]") {
        finished = true
        void reader.cancel().catch(() => undefined)
        const raw = state.rawReason
        if (raw === undefined) throw truncated("[DONE] arrived without a finish reason")
        if (raw === "content_filter" && state.delivered.length === 0 && !state.toolCalls) {
          throw Errors.fromInBand(
            { message: "The answer was blocked by the content filter", code: "content_filter" },
            context
          )
        }
        out.push(Chunks.finishEvent(state, raw))
        break
      }
      if (data.length === 0) continue
      const chunk: unknown = JSON.parse(data)
      const error =
        typeof chunk === "object" && chunk !== null ? (chunk as { error?: unknown }).error : undefined
      if (frame.event === "error") throw Errors.fromInBand(error ?? chunk, context)
      if (error !== undefined && error !== null) throw Errors.fromInBand(error, context)
      const problem = ChunkShape.problem(chunk)
      if (problem !== undefined) throw Errors.malformed(context, problem)
      Chunks.mapChunk(chunk as ChatCompletionChunk, state, out)
    }
    frames.length = 0
  }

  return {
    get finished() {
      return finished
    },
    next: async (): Promise<Arr.NonEmptyReadonlyArray<ModelEvent.ModelEvent>> => {
      if (failure !== undefined) throw failure.error
      const out: Array<ModelEvent.ModelEvent> = []
      while (!finished) {
        if (ended) {
          throw truncated(
            state.rawReason === undefined
              ? "the body ended without a finish reason and without [DONE]"
              : "the body ended without [DONE]"
          )
        }
        const result = await reader.read()
        if (result.done) {
          ended = true
          decoder.end(frames)
        } else decoder.push(result.value, frames)
        try {
          drain(out)
        } catch (error) {
          if (out.length === 0) throw error
          failure = { error }
        }
        if (out.length > 0) return out as unknown as Arr.NonEmptyReadonlyArray<ModelEvent.ModelEvent>
      }
      throw END
    }
  }
}

/**
 * Builds the adapter from an `OpenAiClient`.
 *
 * **Details**
 *
 * `stream` sends the request with `stream: true` and
 * `stream_options.include_usage`, emits `text-delta` / `tool-call-delta`
 * events as chunks arrive, and exactly one `finish` (with usage) at
 * `[DONE]`. `complete` makes the same call without streaming. Requests are
 * sent as they are (continuation requests included).
 *
 * **Gotchas**
 *
 * - Each chunk's shape is checked (cheaply) before it is read: a chunk of
 *   the wrong shape (`choices` missing, a `delta` that is not an object,
 *   non-string content …) fails with `MalformedResponse`, like bad JSON.
 *   `choices: []` and choices without a `delta` are valid (Azure sends both).
 * - Truncation is an error: a body that ends without a finish reason or
 *   without `[DONE]` fails with `StreamTruncated` carrying the delivered
 *   text; a broken connection mid-body does too.
 * - `finish_reason: "content_filter"` with nothing delivered fails with
 *   `ContentFiltered`; after partial content it is a `content-filter` finish.
 * - There is no idle timeout here: a stalled stream (keep-alive comments
 *   only) emits nothing until the consumer gives up. Timeouts are
 *   `ResilientChat`'s job.
 * - The SSE body is decoded here (`internal/sse.ts`, the SDK's rules) rather
 *   than by the SDK's `Stream` class, which ends quietly when `[DONE]` is
 *   missing, and so that one read of the body becomes one batch of events
 *   (the SDK yields one frame at a time: one async step per token).
 *
 * @since 0.1.0
 */
export const make = Effect.fnUntraced(function* () {
  const service = yield* OpenAiClient.OpenAiClient
  const client = service.client

  const stream = (
    request: ChatRequest.ChatRequest
  ): Stream.Stream<ModelEvent.ModelEvent, ChatError.ChatError> =>
    Stream.unwrap(
      Effect.gen(function* () {
        const controller = new AbortController()
        const state = Chunks.makeState()
        let reader: ReturnType<typeof makeReader> | undefined
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            if (reader === undefined || !reader.finished) controller.abort()
          })
        )
        const base = errorContext(service, request.model)
        const response = yield* Effect.tryPromise({
          try: () =>
            client.chat.completions
              .create(
                { ...Params.toParams(request), stream: true, stream_options: { include_usage: true } },
                {
                  signal: controller.signal
                }
              )
              .asResponse(),
          catch: (error) => Errors.fromUnknown(error, base, undefined, Date.now())
        })
        const context = errorContext(
          service,
          request.model,
          response.headers.get("x-request-id") ?? undefined
        )
        if (response.body === null) {
          return yield* Effect.fail(
            Errors.fromUnknown(new Error("the streaming response has no body"), context, "", Date.now())
          )
        }
        const current = makeReader(response.body, context, state)
        reader = current
        const pull = Effect.tryPromise({
          try: current.next,
          catch: (error): ChatError.ChatError | Cause.Done =>
            error === END ? Cause.Done() : Errors.fromUnknown(error, context, state.delivered, Date.now())
        })
        return Stream.fromPull(Effect.succeed(pull))
      })
    )

  const complete = (
    request: ChatRequest.ChatRequest
  ): Effect.Effect<ChatCompletion.ChatCompletion, ChatError.ChatError> =>
    Effect.tryPromise({
      try: (signal) =>
        client.chat.completions
          .create({ ...Params.toParams(request), stream: false }, { signal })
          .withResponse(),
      catch: (error) => Errors.fromUnknown(error, errorContext(service, request.model), undefined, Date.now())
    }).pipe(
      Effect.flatMap(({ data, response }) => {
        const context = errorContext(
          service,
          request.model,
          response.headers.get("x-request-id") ?? undefined
        )
        return Params.fromCompletion(data, context)
      })
    )

  return ChatModel.ChatModel.of({ provider, stream, complete })
})

/**
 * Checks the key and the connection with `GET /v1/models`, with a timeout
 * (default 5 seconds).
 *
 * **Details**
 *
 * Fails with `AuthenticationFailed` for a rejected key and
 * `ConnectionFailed` when the server cannot be reached or does not answer
 * in time; other failures are mapped as for any call. A server without a
 * `/v1/models` route (404) passes: it answered, and it accepted the key.
 *
 * @since 0.1.0
 */
export const preflightWith = (options: { readonly timeout?: Duration.Input } = {}) =>
  Effect.gen(function* () {
    const service = yield* OpenAiClient.OpenAiClient
    const timeout = Duration.fromInputUnsafe(options.timeout ?? "5 seconds")
    const context = errorContext(service, "")
    yield* Effect.tryPromise({
      try: (signal) => service.client.models.list({ timeout: Duration.toMillis(timeout), signal }),
      catch: (error) => {
        const mapped = Errors.fromUnknown(error, { ...context, timeout }, undefined, Date.now())
        return mapped._tag === "Timeout"
          ? Errors.connectionFailed(
              context,
              `Pre-flight: no answer from GET /v1/models within ${Duration.format(timeout)}`
            )
          : mapped
      }
    }).pipe(Effect.catchTag("NotFound", () => Effect.void))
  })

/**
 * {@link preflightWith} with its default 5 second timeout.
 *
 * @since 0.1.0
 */
export const preflight: Effect.Effect<void, ChatError.ChatError, OpenAiClient.OpenAiClient> = preflightWith()

/**
 * The adapter and its client as a layer.
 *
 * **Example**
 *
 * ```ts
 * const Live = OpenAiChatModel.layer({ apiKey: Redacted.make(key), baseURL: server.url, preflight: true })
 * ```
 *
 * **Gotchas**
 *
 * With `preflight`, building the layer fails with `AuthenticationFailed` or
 * `ConnectionFailed` instead of the first request failing later.
 *
 * @since 0.1.0
 */
export const layer = (
  options: Options
): Layer.Layer<ChatModel.ChatModel | OpenAiClient.OpenAiClient, ChatError.ChatError> => {
  const check =
    options.preflight === undefined || options.preflight === false
      ? Effect.void
      : preflightWith(options.preflight === true ? {} : options.preflight)
  return Layer.effect(ChatModel.ChatModel, Effect.andThen(check, make())).pipe(
    Layer.provideMerge(OpenAiClient.layer(options))
  )
}

const ApiKey = Config.schema(Schema.Redacted(Schema.NonEmptyString), "OPENAI_API_KEY")
const BaseUrl = Config.option(Config.String("OPENAI_BASE_URL"))

/**
 * {@link layer} configured from the environment: `OPENAI_API_KEY`
 * (required, non-empty, kept `Redacted`) and `OPENAI_BASE_URL` (optional).
 *
 * **Gotchas**
 *
 * A missing or empty key fails the layer build with a `ConfigError` naming
 * `OPENAI_API_KEY`, instead of a 401 at the first request.
 *
 * @since 0.1.0
 */
export const layerConfig = (
  options: Omit<Options, "apiKey" | "baseURL"> = {}
): Layer.Layer<ChatModel.ChatModel | OpenAiClient.OpenAiClient, ChatError.ChatError | Config.ConfigError> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const apiKey = yield* ApiKey
      const baseURL = yield* BaseUrl
      return layer({ ...options, apiKey, ...(Option.isSome(baseURL) ? { baseURL: baseURL.value } : {}) })
    })
  )
