/**
 * One connection reading a generation: the events after a sequence number as
 * SSE frames, following the generation while it runs, until its terminal
 * event; or the connection's scripted fault, counted in content events sent
 * on this connection (the generation itself goes on).
 *
 * Part of `FakeOpenAiServer`; not re-exported from `/testing`.
 *
 * @since 0.2.0
 */
import type * as Http from "node:http"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ErrorBodies from "../ErrorBodies.ts"
import type * as Respond from "../Respond.ts"
import type * as Step from "../Step.ts"
import * as Transport from "../Transport.ts"
import * as Events from "./Events.ts"
import type * as Generations from "./Generations.ts"

/**
 * How the connection goes.
 *
 * @since 0.2.0
 */
export interface Options {
  /** Send the events after this sequence number (`-1`: all). */
  readonly after: number
  readonly fault: Step.Fault | undefined
  readonly splitUtf8: boolean
  readonly keepAlive: Duration.Input
}

const breakWith = (
  res: Http.ServerResponse,
  fault: Step.Fault,
  keepAlive: Duration.Input,
  hooks: Respond.Hooks
): Effect.Effect<void> => {
  switch (fault._tag) {
    case "Reset":
      hooks.serverClosed()
      return Transport.reset(res)
    case "Close":
      return Transport.end(res)
    case "Stall":
      return Effect.forever(
        Effect.andThen(
          Transport.sleep(fault.keepAlive ?? keepAlive),
          Transport.write(res, ": keep-alive\n\n")
        ).pipe(Effect.tap(() => Effect.sync(hooks.keepAlive)))
      )
    case "ErrorFrame": {
      const error = fault.error ?? ErrorBodies.serverErrorBody
      const event = {
        type: "error",
        code: error.code ?? error.type,
        message: error.message,
        param: error.param ?? null
      }
      return Effect.andThen(Transport.write(res, Events.frame(event, 0)), Transport.end(res))
    }
    case "FinishError": {
      // The Responses API has no finish_reason: a generation that fails says so in an error event.
      const event = {
        type: "error",
        code: String(fault.error?.code ?? "server_error"),
        message: fault.error?.message ?? ErrorBodies.serverErrorBody.message,
        param: null
      }
      return Effect.andThen(Transport.write(res, Events.frame(event, 0)), Transport.end(res))
    }
    case "Malformed": {
      const data = fault.data ?? '{"type":"response.output_text.delta","delta":"oops'
      return Effect.andThen(
        Transport.write(res, `event: response.output_text.delta\ndata: ${data}\n\n`),
        Transport.end(res)
      )
    }
  }
}

/**
 * Streams `generation` to `res` from `options.after`.
 *
 * @since 0.2.0
 */
export const follow = Effect.fnUntraced(function* (
  res: Http.ServerResponse,
  generation: Generations.Generation,
  options: Options,
  hooks: Respond.Hooks
) {
  Transport.startEvents(res)
  const fault = options.fault
  let sent = 0
  for (let sequence = options.after + 1; ; sequence++) {
    const event = yield* generation.at(sequence)
    if (event === undefined) return yield* Transport.end(res)
    if (fault !== undefined && (event.content || event.terminal) && sent === fault.afterChunks) {
      return yield* breakWith(res, fault, options.keepAlive, hooks)
    }
    // The terminal event goes out with the end of the body, in one write.
    if (event.terminal) return yield* Transport.end(res, event.frame)
    yield* Transport.writeFrame(res, event.frame, options.splitUtf8)
    if (event.content) sent++
  }
})
