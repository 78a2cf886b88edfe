/**
 * The `ChatModel` port over the OpenAI Responses API (`client.responses`),
 * in background mode by default, which makes a broken stream resumable: the
 * same generation picked up after the last event received
 * (`GET /v1/responses/{id}?stream=true&starting_after=N`), with no second
 * generation and no prompt.
 *
 * @since 0.2.0
 */
import {
  type ChatCompletion,
  type ChatError,
  ChatModel,
  type ChatRequest,
  type ModelEvent
} from "@steadystream/core"
import type * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Stream from "effect/Stream"
import * as Errors from "./internal/errors.ts"
import * as EventStream from "./internal/eventStream.ts"
import * as Events from "./internal/responsesEvents.ts"
import * as Params from "./internal/responsesParams.ts"
import * as OpenAiChatModel from "./OpenAiChatModel.ts"
import * as OpenAiClient from "./OpenAiClient.ts"

/**
 * Options of {@link layer}: the client's options, the pre-flight check, and
 * whether to create responses in the background.
 *
 * @since 0.2.0
 */
export interface Options extends OpenAiChatModel.Options {
  /**
   * Create streamed responses with `background: true` and `store: true`, so
   * that a broken stream can be resumed and an abandoned one cancelled.
   * Default `true`. Without it the adapter streams like any other and offers
   * no `resumable`.
   */
  readonly background?: boolean
}

/** How long a cancel request may take. */
const cancelTimeout = Duration.seconds(5)

/**
 * Builds the adapter from an `OpenAiClient`.
 *
 * **Details**
 *
 * `stream` creates a response with `stream: true` (and, by default,
 * `background: true, store: true`) and maps its events: output text, function
 * calls (the call id and name once, then argument deltas; the tool index is
 * the item's `output_index`), reasoning summaries (`reasoning-delta`), and one
 * `finish` at `response.completed` / `response.incomplete` with usage. Each
 * body read that moves the sequence ends with a `checkpoint` (response id,
 * last sequence number). `resumable.resume` streams the events after a
 * checkpoint; `resumable.cancel` cancels the response. `complete` creates a
 * response without streaming and without background mode.
 *
 * **Gotchas**
 *
 * - A Responses stream ends at a terminal event, never at `[DONE]`: a body
 *   that ends before one is `StreamTruncated`.
 * - In-band `error` events (flat or nested) and `response.failed` fail with
 *   the error they carry; a refusal fails with `ContentFiltered` whose
 *   `refusal` holds the model's words; an event of the wrong shape is
 *   `MalformedResponse`.
 * - Background mode needs `store: true`: the response is stored by OpenAI
 *   (about 10 minutes for resuming), and it adds some first-token latency.
 * - The SDK's `responses.stream({ response_id, starting_after })` helper does
 *   not send the cursor (it replays everything and filters locally): resume
 *   calls `retrieve` with the query and the request options as separate
 *   arguments.
 * - A cancel is best effort: it never fails, and gives up after 5 seconds.
 *
 * @since 0.2.0
 */
export const make = Effect.fnUntraced(function* (options: { readonly background?: boolean } = {}) {
  const service = yield* OpenAiClient.OpenAiClient
  const client = service.client
  const background = options.background ?? true
  const context = (model: string) => (requestId: string | undefined) =>
    Errors.contextOf(service, model, requestId)

  const stream = (
    request: ChatRequest.ChatRequest
  ): Stream.Stream<ModelEvent.ModelEvent, ChatError.ChatError> =>
    EventStream.make({
      open: (signal) =>
        client.responses
          .create(
            {
              ...Params.toParams(request),
              stream: true,
              ...(background ? { background: true, store: true } : {}),
              stream_options: { include_obfuscation: false }
            },
            { signal }
          )
          .asResponse(),
      context: context(request.model),
      decoder: (errors) => Events.decoder(Events.makeState(), errors)
    })

  const resume = (
    cursor: ModelEvent.ResumeCursor,
    request: ChatRequest.ChatRequest
  ): Stream.Stream<ModelEvent.ModelEvent, ChatError.ChatError> =>
    EventStream.make({
      open: (signal) =>
        client.responses
          .retrieve(
            cursor.id,
            { stream: true, starting_after: cursor.sequence, include_obfuscation: false },
            { signal }
          )
          .asResponse(),
      context: context(request.model),
      decoder: (errors) => Events.decoder(Events.makeState(cursor), errors)
    })

  const cancel = (cursor: ModelEvent.ResumeCursor): Effect.Effect<void> =>
    Effect.tryPromise((signal) =>
      client.responses.cancel(cursor.id, { signal, timeout: Duration.toMillis(cancelTimeout) })
    ).pipe(Effect.timeout(cancelTimeout), Effect.ignore)

  const complete = (
    request: ChatRequest.ChatRequest
  ): Effect.Effect<ChatCompletion.ChatCompletion, ChatError.ChatError> =>
    Effect.tryPromise({
      try: (signal) =>
        client.responses.create({ ...Params.toParams(request), stream: false }, { signal }).withResponse(),
      catch: (error) =>
        Errors.fromUnknown(error, Errors.contextOf(service, request.model), undefined, Date.now())
    }).pipe(
      Effect.flatMap(({ data, response }) =>
        Params.fromResponse(
          data,
          Errors.contextOf(service, request.model, response.headers.get("x-request-id") ?? undefined)
        )
      )
    )

  return ChatModel.ChatModel.of({
    provider: Errors.provider,
    stream,
    complete,
    ...(background ? { resumable: { resume, cancel } } : {})
  })
})

/**
 * The adapter and its client as a layer.
 *
 * **Example**
 *
 * ```ts
 * const Live = OpenAiResponsesModel.layer({ apiKey: Redacted.make(key), baseURL: server.url })
 * const Chat = ResilientChat.layer().pipe(Layer.provide(Live))
 * ```
 *
 * **Gotchas**
 *
 * With `preflight`, building the layer fails with `AuthenticationFailed` or
 * `ConnectionFailed` instead of the first request failing later.
 *
 * @since 0.2.0
 */
export const layer = (
  options: Options
): Layer.Layer<ChatModel.ChatModel | OpenAiClient.OpenAiClient, ChatError.ChatError> =>
  OpenAiChatModel.layerWith(
    options,
    make(options.background === undefined ? {} : { background: options.background })
  )

/**
 * {@link layer} configured from the environment: `OPENAI_API_KEY`
 * (required, non-empty, kept `Redacted`) and `OPENAI_BASE_URL` (optional).
 *
 * @since 0.2.0
 */
export const layerConfig = (
  options: Omit<Options, "apiKey" | "baseURL"> = {}
): Layer.Layer<ChatModel.ChatModel | OpenAiClient.OpenAiClient, ChatError.ChatError | Config.ConfigError> =>
  OpenAiChatModel.layerConfigWith(options, layer)
