/**
 * A real HTTP server on 127.0.0.1 that speaks the OpenAI wire protocol well
 * enough that the official `openai` SDK cannot tell it from the real API,
 * with scripted faults per call: error statuses with `Retry-After`, resets
 * before headers and mid-body, clean closes without `[DONE]`, stalls with
 * keep-alive comments, in-band error frames, malformed JSON, slow drips and
 * multi-byte characters split across TCP writes; and models that continue a
 * broken answer badly, reason first, refuse or end with
 * `finish_reason: "error"`, in OpenAI's, OpenRouter's or Azure's chunk
 * shapes. It speaks Chat Completions and (since 0.2.0) the Responses API:
 * background generations that run on their own, resume with
 * `starting_after`, cancel.
 *
 * Its parts live under `./fake/`: routes (`Router.ts`), answers
 * (`AnswerPlan.ts`, `Continue.ts`, `Respond.ts`, `Streamed.ts`), the wire
 * (`Wire.ts`, `Shapes.ts`, `Transport.ts`), the request record
 * (`Recorder.ts`) and the listener; the Responses API under
 * `./fake/responses/`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Connections from "./fake/Connections.ts"
import * as Listener from "./fake/Listener.ts"
import * as Recorder from "./fake/Recorder.ts"
import * as Router from "./fake/Router.ts"
import * as Generations from "./fake/responses/Generations.ts"
import * as Step from "./fake/Step.ts"
import * as Texts from "./fake/Texts.ts"

/**
 * Server options: the scenario (`steps`, `fallback`, `text`) plus where to
 * listen and what to check.
 *
 * @since 0.1.0
 */
export interface Options extends Partial<Step.Scenario> {
  /** When set, every request must carry `Authorization: Bearer <apiKey>` or gets a 401. */
  readonly apiKey?: string
  /** Default 0 (any free port). */
  readonly port?: number
  /** Default `"127.0.0.1"`. */
  readonly host?: string
  /** The model name reported in answers and `/v1/models`. Default `"gpt-fake"`. */
  readonly model?: string
  /** Default interval of `: keep-alive` comments while stalled. Default 1 second. */
  readonly keepAlive?: Duration.Input
  /**
   * Which requests `requests` keeps: `{ limit }` keeps the last `limit`,
   * `false` none. Default `{ limit: 20 }`: memory stays flat however long
   * the server runs; a test that inspects more requests asks for more.
   */
  readonly record?: Recorder.Options
  /**
   * Which APIs to speak: Chat Completions (`/v1/chat/completions`) and the
   * Responses API (`/v1/responses…`). Default both; the routes of an API left
   * out answer 404, as a server that only speaks the other would.
   *
   * @since 0.2.0
   */
  readonly apis?: ReadonlyArray<Router.Api>
}

/**
 * One request the server received, and what became of it.
 *
 * @since 0.1.0
 */
export type RecordedRequest = Recorder.RecordedRequest

/**
 * The server could not listen (port taken, host unknown, …): the message
 * says where and why.
 *
 * @since 0.1.0
 */
export type ListenError = Listener.ListenError

/**
 * The class of {@link ListenError}, for `catchTag` and `instanceof`.
 *
 * @since 0.1.0
 */
export const ListenError = Listener.ListenError

/**
 * A running server.
 *
 * @since 0.1.0
 */
export interface Service {
  /** The base URL, ending in `/v1`: pass it as the SDK's `baseURL`. */
  readonly url: string
  readonly port: number
  /** The recorded requests (the last `record.limit`), in arrival order (a snapshot). */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  /** How many TCP connections are open right now. */
  readonly openConnections: Effect.Effect<number>
  /** Waits until exactly `count` connections are open (wrap it in a timeout). */
  readonly awaitOpenConnections: (count: number) => Effect.Effect<void>
}

/**
 * The service key, for tests that share one server through a layer.
 *
 * @since 0.1.0
 */
export class FakeOpenAiServer extends Context.Service<FakeOpenAiServer, Service>()(
  "@steadystream/openai-adapter/testing/FakeOpenAiServer"
) {}

/**
 * Starts a server; it stops (closing every connection) when the scope closes.
 * Fails with {@link ListenError} when it cannot listen.
 *
 * **Example**
 *
 * ```ts
 * const server = yield* FakeOpenAiServer.make({
 *   apiKey: "sk-test",
 *   steps: [FakeScenario.rateLimited(FakeScenario.retryAfterSeconds(2)), FakeScenario.resetAfter(3)]
 * })
 * const client = new OpenAI({ apiKey: "sk-test", baseURL: server.url, maxRetries: 0 })
 * ```
 *
 * **Gotchas**
 *
 * - Calls consume `steps` in arrival order; `/v1/models` and requests
 *   rejected by the key check or by validation do not consume a step.
 * - Chat requests are validated as OpenAI validates them: a body that is not
 *   a JSON object, without a `model`, or whose `messages` is not a non-empty
 *   array of `{ role, content }` gets a 400 `invalid_request_error` whose
 *   `param` names the field.
 * - A continuation request (an assistant message last, or before a trailing
 *   instruction, whose text is a prefix of the answer) gets exactly the
 *   remainder, plus the step's scripted `overlap`, unless the step's
 *   `continuation` makes it misbehave (`FakeScenario.restartsInOtherWords`
 *   and the other constructors of `Continuations.ts`).
 * - Responses API calls (`POST /v1/responses` and every streamed
 *   `GET /v1/responses/{id}`, i.e. each resume) take steps from the same
 *   list: an `HttpError` step on a resume is an expired (404) or refused
 *   (400) resume, an answer step's fault breaks that connection while a
 *   background generation goes on; an `ErrorFrame` fault on a create fails
 *   the generation itself (`error`, then `response.failed`). The server keeps
 *   the last 100 generations.
 * - Waits use real timers, not the Effect `Clock`: under `TestClock` the
 *   server still runs in real time.
 * - `requests` is a window of the last 20 requests unless `record` says
 *   otherwise: ask for `{ limit }` above the number of requests a test
 *   inspects, or `false` for a long-running server nobody inspects.
 *
 * @since 0.1.0
 */
export const make = Effect.fnUntraced(function* (options: Options = {}) {
  const recorder = Recorder.make(options.record)
  const connections = Connections.make()
  const handle = Router.make(
    {
      steps: options.steps ?? [],
      fallback: options.fallback ?? Step.answer(),
      text: options.text ?? Texts.defaultText,
      apiKey: options.apiKey,
      model: options.model ?? "gpt-fake",
      keepAlive: options.keepAlive ?? "1 second",
      apis: options.apis ?? ["chat", "responses"]
    },
    recorder,
    yield* Generations.make()
  )
  const runFork = yield* FiberSet.makeRuntime<never>()
  const { url, port } = yield* Listener.listen({
    port: options.port ?? 0,
    host: options.host ?? "127.0.0.1",
    connections,
    onRequest: (req, res) => {
      const fiber = runFork(handle(req, res))
      res.on("close", () => fiber.interruptUnsafe())
    }
  })
  return FakeOpenAiServer.of({
    url,
    port,
    requests: recorder.requests,
    openConnections: connections.open,
    awaitOpenConnections: connections.awaitOpen
  })
})

/**
 * A layer running one server for every test that shares it.
 *
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<FakeOpenAiServer, ListenError> =>
  Layer.effect(FakeOpenAiServer, make(options))
