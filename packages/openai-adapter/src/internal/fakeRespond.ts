/**
 * How the fake server answers one step: error responses, streamed answers
 * (with their faults) and non-streamed answers.
 *
 * @internal
 */
import type * as Http from "node:http"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FakeScenario from "../testing/FakeScenario.ts"
import type * as FakeAnswer from "./fakeAnswer.ts"
import * as Wire from "./fakeWire.ts"

/** Callbacks into the request's record. */
export interface Hooks {
  readonly serverClosed: () => void
  readonly keepAlive: () => void
}

/** An HTTP error with an OpenAI error body and its Retry-After headers. */
export const respondError = (res: Http.ServerResponse, step: FakeScenario.HttpError, sentKey: string) =>
  Wire.sendJson(res, step.status, Wire.errorBody(step.error, sentKey), {
    ...Wire.retryAfterHeaders(step.retryAfter),
    ...step.headers
  })

/** A streamed answer: role chunk, content chunks (or a fault), finish, usage, `[DONE]`. */
export const streamAnswer = Effect.fnUntraced(function* (
  res: Http.ServerResponse,
  base: Wire.ChunkBase,
  plan: FakeAnswer.Plan,
  step: FakeScenario.Answer,
  keepAlive: Duration.Input,
  hooks: Hooks
) {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive"
  })
  res.flushHeaders()
  const split = step.splitUtf8 === true
  const fault = step.fault
  yield* Wire.write(res, Wire.frame(Wire.chunk(base, { role: "assistant", content: "" }, null)))
  for (let i = 0; i <= plan.deltas.length; i++) {
    if (fault !== undefined && fault.afterChunks === i) {
      switch (fault._tag) {
        case "Reset":
          hooks.serverClosed()
          return yield* Wire.reset(res)
        case "Close":
          return yield* endResponse(res)
        case "Stall":
          for (;;) {
            yield* Wire.sleep(fault.keepAlive ?? keepAlive)
            yield* Wire.write(res, ": keep-alive\n\n")
            hooks.keepAlive()
          }
        case "ErrorFrame":
          yield* Wire.write(
            res,
            Wire.frame(Wire.errorBody(fault.error ?? FakeScenario.serverError().error, ""))
          )
          return yield* endResponse(res)
        case "Malformed":
          yield* Wire.write(res, Wire.malformedFrame(base))
          return yield* endResponse(res)
      }
    }
    const delta = plan.deltas[i]
    if (delta === undefined) break
    if (step.delay !== undefined) yield* Wire.sleep(step.delay)
    yield* Wire.writeFrame(res, Wire.frame(Wire.chunk(base, delta, null)), split)
  }
  yield* Wire.write(res, Wire.frame(Wire.chunk(base, {}, plan.finishReason)))
  if (base.includeUsage) yield* Wire.write(res, Wire.frame(Wire.usageChunk(base, plan.usage)))
  if (step.omitDone !== true) yield* Wire.write(res, "data: [DONE]\n\n")
  yield* endResponse(res)
})

/** A non-streamed answer; faults become a cut body, a silent stall, a 500 or bad JSON. */
export const completeAnswer = Effect.fnUntraced(function* (
  res: Http.ServerResponse,
  base: Wire.ChunkBase,
  plan: FakeAnswer.Plan,
  step: FakeScenario.Answer,
  hooks: Hooks
) {
  if (step.delay !== undefined) {
    yield* Wire.sleep(Duration.toMillis(step.delay) * plan.deltas.length)
  }
  const fault = step.fault
  if (fault === undefined) return yield* Wire.sendJson(res, 200, Wire.completion(base, plan))
  switch (fault._tag) {
    case "Reset":
    case "Close": {
      const data = JSON.stringify(Wire.completion(base, plan))
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(data) })
      yield* Wire.write(res, data.slice(0, Math.floor(data.length / 2)))
      hooks.serverClosed()
      if (fault._tag === "Reset") return yield* Wire.reset(res)
      res.socket?.destroy()
      return
    }
    case "Stall":
      return yield* Effect.never
    case "ErrorFrame":
      return yield* Wire.sendJson(
        res,
        500,
        Wire.errorBody(fault.error ?? FakeScenario.serverError().error, "")
      )
    case "Malformed": {
      const data = JSON.stringify(Wire.completion(base, plan)).slice(0, -7)
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(data) })
      return yield* endResponse(res, data)
    }
  }
})

const endResponse = (res: Http.ServerResponse, data?: string): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (data === undefined) res.end(() => resume(Effect.void))
    else res.end(data, () => resume(Effect.void))
  })
