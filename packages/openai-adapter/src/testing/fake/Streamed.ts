/**
 * How the fake server streams an answer as Server-Sent Events, and how each
 * fault breaks that stream.
 *
 * Part of `FakeOpenAiServer`; not re-exported from `/testing`.
 *
 * @since 0.1.0
 */
import type * as Http from "node:http"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as AnswerPlan from "./AnswerPlan.ts"
import * as ErrorBodies from "./ErrorBodies.ts"
import type * as Respond from "./Respond.ts"
import * as Shapes from "./Shapes.ts"
import type * as Step from "./Step.ts"
import * as Transport from "./Transport.ts"
import * as Wire from "./Wire.ts"

/**
 * A streamed answer: the shape's leading frames, role chunk, reasoning
 * chunks, content chunks (or the step's fault), finish, the shape's trailing
 * frames, usage, `[DONE]`.
 *
 * @since 0.1.0
 */
export const answer = Effect.fnUntraced(function* (
  res: Http.ServerResponse,
  base: Wire.ChunkBase,
  plan: AnswerPlan.Plan,
  step: Step.Answer,
  keepAlive: Duration.Input,
  hooks: Respond.Hooks
) {
  Transport.startEvents(res)
  const split = step.splitUtf8 === true
  const fault = step.fault
  for (const frame of Shapes.leading(base.shape)) yield* Transport.write(res, frame)
  yield* Transport.write(res, Wire.frame(Wire.chunk(base, { role: "assistant", content: "" }, null)))
  const reasoning = plan.reasoning
  if (reasoning !== undefined) {
    const delay = step.reasoning?.delay ?? step.delay
    for (const piece of reasoning.pieces) {
      if (delay !== undefined) yield* Transport.sleep(delay)
      yield* Transport.write(res, Wire.frame(Wire.chunk(base, { [reasoning.field]: piece }, null)))
    }
  }
  for (let i = 0; i <= plan.deltas.length; i++) {
    if (fault !== undefined && fault.afterChunks === i) {
      switch (fault._tag) {
        case "Reset":
          hooks.serverClosed()
          return yield* Transport.reset(res)
        case "Close":
          return yield* Transport.end(res)
        case "Stall":
          for (;;) {
            yield* Transport.sleep(fault.keepAlive ?? keepAlive)
            yield* Transport.write(res, ": keep-alive\n\n")
            hooks.keepAlive()
          }
        case "ErrorFrame":
          yield* Transport.write(
            res,
            Wire.frame(Wire.errorBody(fault.error ?? ErrorBodies.serverErrorBody, ""))
          )
          return yield* Transport.end(res)
        case "Malformed":
          yield* Transport.write(
            res,
            fault.data === undefined ? Wire.malformedFrame(base) : `data: ${fault.data}\n\n`
          )
          return yield* Transport.end(res)
        case "FinishError":
          yield* Transport.write(res, Wire.frame(Wire.errorFinishChunk(base, fault.error)))
          yield* Transport.write(res, "data: [DONE]\n\n")
          return yield* Transport.end(res)
      }
    }
    const delta = plan.deltas[i]
    if (delta === undefined) break
    if (step.delay !== undefined) yield* Transport.sleep(step.delay)
    yield* Transport.writeFrame(res, Wire.frame(Wire.chunk(base, delta, null)), split)
  }
  yield* Transport.write(res, Wire.frame(Wire.chunk(base, {}, plan.finishReason)))
  for (const frame of Shapes.trailing(base.shape, plan.text.length)) yield* Transport.write(res, frame)
  if (base.includeUsage) yield* Transport.write(res, Wire.frame(Wire.usageChunk(base, plan.usage)))
  if (step.omitDone !== true) yield* Transport.write(res, "data: [DONE]\n\n")
  yield* Transport.end(res)
})
