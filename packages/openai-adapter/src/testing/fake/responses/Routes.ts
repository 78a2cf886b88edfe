/**
 * The fake server's Responses API routes:
 *
 * - `POST /v1/responses`: plays the next step of the script; an answer starts
 *   a generation (in the background with `background: true`) and streams it,
 *   or answers with the response object (`stream` unset).
 * - `GET /v1/responses/{id}?stream=true&starting_after=N`: plays the next
 *   step too (an `HttpError` step is an expired or refused resume); an answer
 *   streams the events after `N` and keeps following a generation still
 *   running, with the step's fault on this connection. A response that was
 *   not created in the background gets a 400, an unknown id a 404. Without
 *   `stream=true`: the response object, no step.
 * - `POST /v1/responses/{id}/cancel`: stops a background generation.
 *
 * Part of `FakeOpenAiServer`; not re-exported from `/testing`.
 *
 * @since 0.2.0
 */
import type * as Http from "node:http"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as AnswerPlan from "../AnswerPlan.ts"
import * as ErrorBodies from "../ErrorBodies.ts"
import * as Incoming from "../Incoming.ts"
import type * as Recorder from "../Recorder.ts"
import * as Respond from "../Respond.ts"
import type * as Step from "../Step.ts"
import * as Transport from "../Transport.ts"
import * as Wire from "../Wire.ts"
import * as Events from "./Events.ts"
import * as Follow from "./Follow.ts"
import type * as Generations from "./Generations.ts"
import * as Steps from "./Steps.ts"

/**
 * What the routes need from the server.
 *
 * @since 0.2.0
 */
export interface Context {
  readonly store: Generations.Store
  /** The next step of the script (shared with chat completions), and its call index. */
  readonly nextCall: () => { readonly index: number; readonly step: Step.Step }
  readonly text: string
  readonly model: string
  readonly keepAlive: Duration.Input
}

/**
 * Whether `path` is one of these routes.
 *
 * @since 0.2.0
 */
export const matches = (path: string): boolean =>
  path === "/v1/responses" || path.startsWith("/v1/responses/")

type Json = Readonly<Record<string, unknown>>

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** The request's input as chat messages, for `AnswerPlan` (a function call output is a tool message). */
const messagesOf = (input: unknown): ReadonlyArray<unknown> =>
  typeof input === "string"
    ? [{ role: "user", content: input }]
    : Array.isArray(input)
      ? input.map((item) =>
          isObject(item) && item.type === "function_call_output"
            ? { role: "tool", content: item.output }
            : item
        )
      : []

const invalid = (body: unknown): Step.ErrorBody | undefined => {
  const problem = (param: string, message: string): Step.ErrorBody => ({
    message,
    type: "invalid_request_error",
    param,
    code: null
  })
  if (!isObject(body)) return ErrorBodies.unparseableJson
  if (typeof body.model !== "string") return problem("model", "Missing required parameter: 'model'.")
  const input = body.input
  if (typeof input !== "string" && !(Array.isArray(input) && input.length > 0)) {
    return problem("input", "Invalid 'input': expected a string or a non-empty array.")
  }
  if (body.background === true && body.store === false) return Steps.backgroundNeedsStoreBody
  return undefined
}

/** Waits for the terminal event of a generation (`undefined` when it stopped short). */
const terminalOf = (generation: Generations.Generation) =>
  Effect.gen(function* () {
    for (let sequence = 0; ; sequence++) {
      const event = yield* generation.at(sequence)
      if (event === undefined || event.terminal) return event
    }
  })

/**
 * Answers one request to these routes.
 *
 * @since 0.2.0
 */
export const handle = Effect.fnUntraced(function* (
  req: Http.IncomingMessage,
  res: Http.ServerResponse,
  request: Incoming.Request,
  entry: Recorder.Entry,
  hooks: Respond.Hooks,
  context: Context
) {
  const sentKey = Incoming.bearer(request)
  const error = (status: number, body: Step.ErrorBody) =>
    Transport.sendJson(res, status, Wire.errorBody(body, sentKey))
  const [, , , id, action] = request.path.split("/")
  const generation = id === undefined ? undefined : context.store.get(id)

  const play = (step: Step.Step, answer: (step: Step.Answer) => Effect.Effect<void>) =>
    Respond.playWith(req, res, step, sentKey, hooks, answer)
  const take = () => {
    const { index, step } = context.nextCall()
    entry.call = index
    entry.outcome = step._tag
    return step
  }

  if (request.method === "POST" && id === undefined) {
    const problem = invalid(request.body)
    if (problem !== undefined) {
      entry.outcome = "BadRequest"
      return yield* error(400, problem)
    }
    const body = request.body as Json
    const step = take()
    return yield* play(step, (answer) =>
      Effect.gen(function* () {
        const plan = AnswerPlan.plan({ messages: messagesOf(body.input) }, answer, context.text)
        if (plan.continuedFrom !== undefined) hooks.continued(plan.continuedFrom)
        const identity: Events.Identity = {
          id: `resp_fake_${String((entry.call ?? 0) + 1).padStart(6, "0")}`,
          model: context.model,
          background: body.background === true,
          createdAt: Math.floor(Date.now() / 1000)
        }
        const started = yield* context.store.start(
          identity,
          Events.plan(identity, plan, answer),
          answer.delay
        )
        const fault = answer.fault?._tag === "ErrorFrame" ? undefined : answer.fault
        if (body.stream === true) {
          const split = answer.splitUtf8 === true
          return yield* Follow.follow(
            res,
            started,
            { after: -1, fault, splitUtf8: split, keepAlive: context.keepAlive },
            hooks
          )
        }
        if (fault !== undefined) {
          hooks.serverClosed()
          return yield* Transport.reset(res)
        }
        if (identity.background) return yield* Transport.sendJson(res, 200, started.snapshot())
        yield* terminalOf(started)
        return yield* Transport.sendJson(res, 200, started.snapshot())
      })
    )
  }
  if (request.method === "GET" && id !== undefined && action === undefined) {
    if (request.query.stream !== "true") {
      if (generation === undefined) return yield* error(404, Steps.responseNotFound(id))
      return yield* Transport.sendJson(res, 200, generation.snapshot())
    }
    const step = take()
    return yield* play(step, (answer) => {
      if (generation === undefined) return error(404, Steps.responseNotFound(id))
      if (!generation.identity.background) return error(400, Steps.notResumableBody)
      const after = Number(request.query.starting_after ?? "-1")
      return Follow.follow(
        res,
        generation,
        {
          after: Number.isInteger(after) ? after : -1,
          fault: answer.fault,
          splitUtf8: answer.splitUtf8 === true,
          keepAlive: context.keepAlive
        },
        hooks
      )
    })
  }
  if (request.method === "POST" && id !== undefined && action === "cancel") {
    if (generation === undefined) return yield* error(404, Steps.responseNotFound(id))
    if (!generation.identity.background) return yield* error(400, Steps.notCancellableBody)
    yield* context.store.cancel(generation)
    return yield* Transport.sendJson(res, 200, generation.snapshot())
  }
  entry.outcome = "NotFound"
  return yield* error(404, ErrorBodies.invalidUrl(request.method, request.path))
})
