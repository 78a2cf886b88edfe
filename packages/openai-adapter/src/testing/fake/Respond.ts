/**
 * How the fake server plays one step: error responses, resets before
 * headers, streamed answers (with their faults) and non-streamed answers.
 *
 * Part of `FakeOpenAiServer`; not re-exported from `/testing`.
 *
 * @since 0.1.0
 */
import type * as Http from "node:http"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as AnswerPlan from "./AnswerPlan.ts"
import * as ErrorBodies from "./ErrorBodies.ts"
import * as Step from "./Step.ts"
import * as Streamed from "./Streamed.ts"
import * as Transport from "./Transport.ts"
import * as Wire from "./Wire.ts"

/**
 * What a response reports back to the request's record as it goes.
 *
 * @since 0.1.0
 */
export interface Hooks {
  /** The server is about to close the connection itself (not a client cancellation). */
  readonly serverClosed: () => void
  /** A stalled answer sent one `: keep-alive` comment. */
  readonly keepAlive: () => void
  /** The answer continues this assistant prefix. */
  readonly continued: (prefix: string) => void
}

/**
 * One chat-completions call to answer.
 *
 * @since 0.1.0
 */
export interface Call {
  /** 0-based over every chat-completions call: which step answers. */
  readonly index: number
  /** The request body, already validated. */
  readonly body: {
    readonly messages: ReadonlyArray<unknown>
    readonly stream?: unknown
    readonly stream_options?: unknown
  }
  /** The bearer token the client sent (echoed by `{apiKey}` error messages). */
  readonly sentKey: string
  readonly model: string
  readonly text: string
  readonly keepAlive: Duration.Input
}

/**
 * Plays `step`: a reset before headers, an HTTP error, or `answer` (each
 * API answers in its own way).
 *
 * @since 0.2.0
 */
export const playWith = (
  req: Http.IncomingMessage,
  res: Http.ServerResponse,
  step: Step.Step,
  sentKey: string,
  hooks: Hooks,
  answer: (step: Step.Answer) => Effect.Effect<void>
): Effect.Effect<void> => {
  switch (step._tag) {
    case "ResetBeforeHeaders":
      return Effect.sync(() => {
        hooks.serverClosed()
        req.socket.resetAndDestroy()
      })
    case "HttpError":
      return respondError(res, step, sentKey)
    case "Answer":
      return answer(step)
  }
}

/**
 * Plays `step` as the answer to `call`.
 *
 * @since 0.1.0
 */
export const play = (
  req: Http.IncomingMessage,
  res: Http.ServerResponse,
  step: Step.Step,
  call: Call,
  hooks: Hooks
): Effect.Effect<void> =>
  playWith(req, res, step, call.sentKey, hooks, (step) => {
    const plan = AnswerPlan.plan(call.body, step, call.text)
    if (plan.invalid !== undefined) return respondError(res, Step.httpError(400, plan.invalid), call.sentKey)
    if (plan.continuedFrom !== undefined) hooks.continued(plan.continuedFrom)
    const options = call.body.stream_options as { readonly include_usage?: unknown } | undefined
    const base: Wire.ChunkBase = {
      id: `chatcmpl-fake-${call.index + 1}`,
      created: Math.floor(Date.now() / 1000),
      model: call.model,
      includeUsage: options?.include_usage === true,
      shape: step.shape ?? "openai"
    }
    return call.body.stream === true
      ? Streamed.answer(res, base, plan, step, call.keepAlive, hooks)
      : completeAnswer(res, base, plan, step, hooks)
  })

/**
 * An HTTP error with an OpenAI error body and its Retry-After headers.
 *
 * @since 0.1.0
 */
export const respondError = (
  res: Http.ServerResponse,
  step: Step.HttpError,
  sentKey: string
): Effect.Effect<void> =>
  Transport.sendJson(res, step.status, Wire.errorBody(step.error, sentKey), {
    ...Wire.retryAfterHeaders(step.retryAfter),
    ...step.headers
  })

/** A non-streamed answer; faults become a cut body, a silent stall, a 500, bad JSON or `finish_reason: "error"`. */
const completeAnswer = Effect.fnUntraced(function* (
  res: Http.ServerResponse,
  base: Wire.ChunkBase,
  plan: AnswerPlan.Plan,
  step: Step.Answer,
  hooks: Hooks
) {
  if (step.delay !== undefined) {
    yield* Transport.sleep(Duration.toMillis(step.delay) * plan.deltas.length)
  }
  const fault = step.fault
  if (fault === undefined) return yield* Transport.sendJson(res, 200, Wire.completion(base, plan))
  switch (fault._tag) {
    case "Reset":
    case "Close": {
      const data = JSON.stringify(Wire.completion(base, plan))
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(data) })
      yield* Transport.write(res, data.slice(0, Math.floor(data.length / 2)))
      hooks.serverClosed()
      if (fault._tag === "Reset") return yield* Transport.reset(res)
      res.socket?.destroy()
      return
    }
    case "Stall":
      return yield* Effect.never
    case "ErrorFrame":
      return yield* Transport.sendJson(
        res,
        500,
        Wire.errorBody(fault.error ?? ErrorBodies.serverErrorBody, "")
      )
    case "Malformed": {
      const data = fault.data ?? JSON.stringify(Wire.completion(base, plan)).slice(0, -7)
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(data) })
      return yield* Transport.end(res, data)
    }
    case "FinishError":
      return yield* Transport.sendJson(res, 200, Wire.completion(base, plan, { error: fault.error }))
  }
})
