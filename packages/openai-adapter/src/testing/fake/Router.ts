/**
 * The fake server's routes: the key check, `GET /v1/models`,
 * `POST /v1/chat/completions` (which validates the body, then plays the next
 * step of the script), the Responses API routes (`./responses/Routes.ts`,
 * sharing the script) and a 404 for anything else. Every request is recorded.
 *
 * Part of `FakeOpenAiServer`; not re-exported from `/testing`.
 *
 * @since 0.1.0
 */
import type * as Http from "node:http"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ErrorBodies from "./ErrorBodies.ts"
import * as Incoming from "./Incoming.ts"
import * as Recorder from "./Recorder.ts"
import * as Respond from "./Respond.ts"
import type * as Generations from "./responses/Generations.ts"
import * as Responses from "./responses/Routes.ts"
import type * as Step from "./Step.ts"
import * as Transport from "./Transport.ts"
import * as Validate from "./Validate.ts"
import * as Wire from "./Wire.ts"

/**
 * What the routes answer with, every default filled in.
 *
 * @since 0.1.0
 */
export interface Settings {
  readonly steps: ReadonlyArray<Step.Step>
  readonly fallback: Step.Step
  readonly text: string
  readonly apiKey: string | undefined
  readonly model: string
  readonly keepAlive: Duration.Input
  /** Which APIs the server speaks; the other's routes are 404s. @since 0.2.0 */
  readonly apis: ReadonlyArray<Api>
}

/**
 * The APIs the server can speak: Chat Completions and the Responses API.
 *
 * @since 0.2.0
 */
export type Api = "chat" | "responses"

/**
 * The request handler: each call to `/v1/chat/completions` takes the next
 * step of the script (then the fallback), in arrival order.
 *
 * @since 0.1.0
 */
export const make = (settings: Settings, recorder: Recorder.Recorder, generations: Generations.Store) => {
  let calls = 0
  const nextCall = () => {
    const index = calls++
    return { index, step: settings.steps[index] ?? settings.fallback }
  }

  return Effect.fnUntraced(function* (req: Http.IncomingMessage, res: Http.ServerResponse) {
    const request = yield* Incoming.read(req)
    const entry = recorder.open(request)
    const hooks = Recorder.track(entry, res)
    res.setHeader("x-request-id", entry.requestId)
    res.setHeader("openai-version", "2020-10-01")
    const sentKey = Incoming.bearer(request)
    const error = (status: number, body: Step.ErrorBody) =>
      Transport.sendJson(res, status, Wire.errorBody(body, sentKey))

    if (settings.apiKey !== undefined && sentKey !== settings.apiKey) {
      entry.outcome = "Unauthorized"
      return yield* Respond.respondError(res, ErrorBodies.unauthorized, sentKey)
    }
    if (request.method === "GET" && request.path === "/v1/models") {
      entry.outcome = "Models"
      return yield* Transport.sendJson(res, 200, Wire.models(settings.model))
    }
    if (settings.apis.includes("responses") && Responses.matches(request.path)) {
      const { text, model, keepAlive } = settings
      const context = { store: generations, nextCall, text, model, keepAlive }
      return yield* Responses.handle(req, res, request, entry, hooks, context)
    }
    const chat = settings.apis.includes("chat")
    if (!chat || request.method !== "POST" || request.path !== "/v1/chat/completions") {
      entry.outcome = "NotFound"
      return yield* error(404, ErrorBodies.invalidUrl(request.method, request.path))
    }
    const invalid = Validate.chatRequest(request.body)
    if (invalid !== undefined) {
      entry.outcome = "BadRequest"
      return yield* error(400, invalid)
    }
    const body = request.body as Respond.Call["body"]
    const { index, step } = nextCall()
    entry.call = index
    entry.outcome = step._tag
    const { model, text, keepAlive } = settings
    return yield* Respond.play(req, res, step, { index, body, sentKey, model, text, keepAlive }, hooks)
  })
}
