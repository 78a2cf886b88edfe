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
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import type { ChatCompletionChunk } from "openai/resources/chat/completions"
import * as ChunkShape from "./internal/chunkShape.ts"
import * as Chunks from "./internal/chunks.ts"
import * as Dialect from "./internal/dialect.ts"
import * as Errors from "./internal/errors.ts"
import * as EventStream from "./internal/eventStream.ts"
import * as Params from "./internal/params.ts"
import * as OpenAiClient from "./OpenAiClient.ts"

/**
 * How the server continues a request whose last message is an assistant
 * message (the delivered text, after a mid-stream failure):
 *
 * - `"instruction"` (OpenAI, the default): it has no native continuation;
 *   `ResilientChat` adds an instruction to continue.
 * - `"continue-final-message"` (vLLM, SGLang, llama.cpp server): the request
 *   carries `continue_final_message: true` and `add_generation_prompt: false`.
 * - `"prefix"` (DeepSeek's `/beta` base URL, Mistral): that last message
 *   carries `"prefix": true`.
 *
 * The latter two make the port's `continuation` `"native"`. Either way every
 * continuation is verified before any of it is emitted.
 *
 * @since 0.2.0
 */
export type Continuation = Dialect.Continuation

/**
 * The request field that carries `ChatRequest.maxTokens`:
 * `"max_completion_tokens"` (OpenAI; its newer and o-series models reject
 * `max_tokens`) or `"max_tokens"` (DeepSeek and Ollama ignore
 * `max_completion_tokens`; Mistral rejects it).
 *
 * @since 0.2.0
 */
export type MaxTokensField = Dialect.MaxTokensField

/**
 * How the server's Chat Completions dialect differs from OpenAI's.
 *
 * @since 0.2.0
 */
export interface DialectOptions {
  /** Default `"instruction"`. */
  readonly continuation?: Continuation
  /** Default `"max_completion_tokens"`. */
  readonly maxTokensField?: MaxTokensField
}

/**
 * Options of {@link layer}: the client's options, the server's dialect and an
 * optional pre-flight check at layer build.
 *
 * @since 0.1.0
 */
export interface Options extends OpenAiClient.Options, DialectOptions {
  /** Check the key and the connection (`GET /v1/models`) when the layer is built. Default `false`. */
  readonly preflight?: boolean | { readonly timeout?: Duration.Input }
}

/** The provider name used in every error. */
const provider = Errors.provider

/** Chat Completions frames: chunks up to `[DONE]`, which must follow a finish reason. */
const decoder = (context: Errors.Context): EventStream.Decoder => {
  const state = Chunks.makeState()
  return {
    delivered: () => state.delivered,
    truncation: () =>
      state.rawReason === undefined
        ? "the body ended without a finish reason and without [DONE]"
        : "the body ended without [DONE]",
    decode: (frames, out) => {
      for (const frame of frames) {
        const data = frame.data
        if (data === "[DONE]") {
          const raw = state.rawReason
          if (raw === undefined) {
            throw Errors.fromUnknown(
              new Error("[DONE] arrived without a finish reason"),
              context,
              state.delivered,
              Date.now()
            )
          }
          if (state.refusal !== "") throw Errors.refused(context, state.refusal)
          if (raw === "content_filter" && state.delivered.length === 0 && !state.toolCalls) {
            throw Errors.fromInBand(
              { message: "The answer was blocked by the content filter", code: "content_filter" },
              context
            )
          }
          out.push(Chunks.finishEvent(state, raw))
          return true
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
        if (state.rawReason === "error") throw Errors.finishedWithError(context)
      }
      return false
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
 * sent as they are, in the server's dialect (`options`): a continuation
 * request (an assistant message last) is marked as the server wants it, and
 * `maxTokens` goes in the server's field. Reasoning deltas
 * (`reasoning_content`, `reasoning`) become `reasoning-delta` events, never
 * text.
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
 * - A refusal (`delta.refusal`, `message.refusal`) is never an empty
 *   success: the call fails with `ContentFiltered` whose `refusal` holds the
 *   model's words (never retried; the refusal is not text).
 * - `finish_reason: "error"` fails at once with `ServerError` (retryable),
 *   even when `[DONE]` follows; with an error object (OpenRouter's shape) the
 *   object is mapped instead, its numeric `code` read as an HTTP status.
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
export const make = Effect.fnUntraced(function* (options: DialectOptions = {}) {
  const service = yield* OpenAiClient.OpenAiClient
  const client = service.client
  const dialect: Dialect.Dialect = {
    continuation: options.continuation ?? Dialect.openAi.continuation,
    maxTokensField: options.maxTokensField ?? Dialect.openAi.maxTokensField
  }

  const stream = (
    request: ChatRequest.ChatRequest
  ): Stream.Stream<ModelEvent.ModelEvent, ChatError.ChatError> =>
    EventStream.make({
      open: (signal) =>
        client.chat.completions
          .create(
            { ...Params.toParams(request, dialect), stream: true, stream_options: { include_usage: true } },
            { signal }
          )
          .asResponse(),
      context: (requestId) => Errors.contextOf(service, request.model, requestId),
      decoder
    })

  const complete = (
    request: ChatRequest.ChatRequest
  ): Effect.Effect<ChatCompletion.ChatCompletion, ChatError.ChatError> =>
    Effect.tryPromise({
      try: (signal) =>
        client.chat.completions
          .create({ ...Params.toParams(request, dialect), stream: false }, { signal })
          .withResponse(),
      catch: (error) =>
        Errors.fromUnknown(error, Errors.contextOf(service, request.model), undefined, Date.now())
    }).pipe(
      Effect.flatMap(({ data, response }) => {
        const context = Errors.contextOf(
          service,
          request.model,
          response.headers.get("x-request-id") ?? undefined
        )
        return Params.fromCompletion(data, context)
      })
    )

  return ChatModel.ChatModel.of({
    provider,
    stream,
    complete,
    continuation: dialect.continuation === "instruction" ? "instruction" : "native"
  })
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
    const context = Errors.contextOf(service, "")
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
): Layer.Layer<ChatModel.ChatModel | OpenAiClient.OpenAiClient, ChatError.ChatError> =>
  layerWith(options, make(options))

/**
 * Any adapter built by `adapter` from an `OpenAiClient`, as a layer with its
 * client and the optional pre-flight check (as {@link layer} does).
 *
 * @since 0.2.0
 */
export const layerWith = (
  options: Options,
  adapter: Effect.Effect<ChatModel.Service, never, OpenAiClient.OpenAiClient>
): Layer.Layer<ChatModel.ChatModel | OpenAiClient.OpenAiClient, ChatError.ChatError> => {
  const check =
    options.preflight === undefined || options.preflight === false
      ? Effect.void
      : preflightWith(options.preflight === true ? {} : options.preflight)
  return Layer.effect(ChatModel.ChatModel, Effect.andThen(check, adapter)).pipe(
    Layer.provideMerge(OpenAiClient.layer(options))
  )
}

const ApiKey = Config.schema(Schema.Redacted(Schema.NonEmptyString), "OPENAI_API_KEY")
const BaseUrl = Config.option(Config.String("OPENAI_BASE_URL"))
const DialectEnv = Config.all({
  continuation: Config.option(
    Config.schema(Schema.Literals(["instruction", "continue-final-message", "prefix"]), "OPENAI_CONTINUATION")
  ),
  maxTokensField: Config.option(
    Config.schema(Schema.Literals(["max_completion_tokens", "max_tokens"]), "OPENAI_MAX_TOKENS_FIELD")
  )
})

/**
 * {@link layer} configured from the environment: `OPENAI_API_KEY`
 * (required, non-empty, kept `Redacted`), `OPENAI_BASE_URL`, and the
 * server's dialect: `OPENAI_CONTINUATION` (`instruction`,
 * `continue-final-message` or `prefix`) and `OPENAI_MAX_TOKENS_FIELD`
 * (`max_completion_tokens` or `max_tokens`), all optional.
 *
 * **Gotchas**
 *
 * - A missing or empty key fails the layer build with a `ConfigError` naming
 *   `OPENAI_API_KEY`, instead of a 401 at the first request; so does a
 *   dialect variable with another value.
 * - The dialect variables describe the server at `OPENAI_BASE_URL`, so when
 *   set they win over `continuation` / `maxTokensField` given in code (which
 *   then serve as defaults).
 *
 * @since 0.1.0
 */
export const layerConfig = (
  options: Omit<Options, "apiKey" | "baseURL"> = {}
): Layer.Layer<ChatModel.ChatModel | OpenAiClient.OpenAiClient, ChatError.ChatError | Config.ConfigError> =>
  layerConfigWith(options, (resolved: Options) =>
    Layer.unwrap(
      Effect.map(DialectEnv, (env) =>
        layer({
          ...resolved,
          ...(Option.isSome(env.continuation) ? { continuation: env.continuation.value } : {}),
          ...(Option.isSome(env.maxTokensField) ? { maxTokensField: env.maxTokensField.value } : {})
        })
      )
    )
  )

/**
 * `layer` (any adapter's) given `OPENAI_API_KEY` and `OPENAI_BASE_URL` from
 * the environment, as {@link layerConfig} does.
 *
 * @since 0.2.0
 */
export const layerConfigWith = <O extends Options, E>(
  options: Omit<O, "apiKey" | "baseURL">,
  layer: (options: O) => Layer.Layer<ChatModel.ChatModel | OpenAiClient.OpenAiClient, E>
): Layer.Layer<ChatModel.ChatModel | OpenAiClient.OpenAiClient, E | Config.ConfigError> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const apiKey = yield* ApiKey
      const baseURL = yield* BaseUrl
      return layer({ ...options, apiKey, ...(Option.isSome(baseURL) ? { baseURL: baseURL.value } : {}) } as O)
    })
  )
