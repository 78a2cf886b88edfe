/**
 * One call across the chain: each step's attempts, with recovery between
 * them, until an answer finishes or nothing is left.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import type * as Tracer from "effect/Tracer"
import { fromEvents } from "../ChatCompletion.ts"
import { type ChatError, StreamTruncated } from "../ChatError.ts"
import type { ChatRequest } from "../ChatRequest.ts"
import type { Finish, StreamEvent } from "../StreamEvent.ts"
import type * as Chain from "./Chain.ts"
import * as Continuation from "./Continuation.ts"
import * as Deadlines from "./Deadlines.ts"
import type { Engine } from "./Engine.ts"
import type * as Handoff from "./Handoff.ts"
import * as Recovery from "./Recovery.ts"
import * as Relay from "./Relay.ts"
import * as Resume from "./Resume.ts"
import type { Route } from "./Route.ts"
import * as StepAttempt from "./StepAttempt.ts"

/** The delivered content as a completion (for the cache). */
const completionOf = (delivered: Continuation.Delivered, finish: Finish, model: string) => {
  const events: Array<StreamEvent> = [{ type: "text-delta", delta: delivered.text }]
  for (const [index, tool] of delivered.tools) {
    events.push({
      type: "tool-call-delta",
      index,
      ...(tool.id === undefined ? {} : { id: tool.id }),
      ...(tool.name === undefined ? {} : { name: tool.name }),
      argumentsDelta: tool.args
    })
  }
  events.push(finish)
  return fromEvents(events, model)
}

/** A call that ends with `StreamTruncated` reports all the text the consumer received. */
const withDelivered = (error: ChatError, delivered: Continuation.Delivered): ChatError =>
  error._tag === "StreamTruncated" && error.delivered !== delivered.text
    ? new StreamTruncated({
        provider: error.provider,
        model: error.model,
        message: error.message,
        ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
        ...(error.status === undefined ? {} : { status: error.status }),
        delivered: delivered.text
      })
    : error

/**
 * Runs one call; its events (`finish` included) reach the consumer through
 * `route`. A broken generation that can be resumed is resumed (`Resume`);
 * one still held when the call ends, however it ends, is cancelled when
 * `scope` closes.
 */
function* run(
  engine: Engine,
  schedule: Schedule.Schedule<unknown, ChatError>,
  request: ChatRequest,
  route: Route,
  scope: Scope.Scope
): Generator<Relay.Instruction<ChatError>, void, unknown> {
  const recovery = yield* Recovery.make({
    schedule,
    maxRetryAfter: engine.policy.retry.maxRetryAfter,
    total: engine.deadlines.total
  })
  const resume = Resume.forCall(engine.resumable)
  if (engine.resumable) yield* Scope.addFinalizer(scope, resume.abandon)
  const { midStream } = engine.policy
  let lastError: ChatError | undefined
  let restart = false
  for (let index = 0; index < engine.steps.length; index++) {
    const step = engine.steps[index] as Chain.Step
    const target = step._tag === "Target" ? step.target(request) : undefined
    if (target !== undefined && recovery.skips(target)) continue
    yield* resume.abandon
    if (index > 0 && lastError !== undefined) {
      yield* Effect.logWarning("SteadyStream: falling back").pipe(
        Effect.annotateLogs({ step: step.name, error: lastError._tag, reason: lastError.message })
      )
      yield* route.send([{ type: "fallback", step: step.name, error: lastError }])
    }
    while (true) {
      if (restart) {
        restart = false
        yield* route.send([{ type: "restart", error: lastError as ChatError }], Continuation.empty)
      }
      const started = yield* StepAttempt.run(engine, recovery, request, step, target, route, resume)
      const result = started instanceof Relay.Detached ? yield* started : started
      if (result._tag === "Success") {
        if (engine.caching && target !== undefined) {
          yield* engine.cache.set(request, completionOf(route.delivered(), result.success, target.model))
        }
        return
      }
      const error = result.failure
      lastError = error
      const after = yield* resume.after(error)
      if (after !== "resume" && Continuation.hasContent(route.delivered())) {
        if (midStream === "fail") {
          return yield* Effect.fail(
            error.isRetryable
              ? new StreamTruncated({
                  provider: error.provider,
                  model: error.model,
                  message: `Stream failed after content was delivered (midStream: "fail"): ${error.message}`,
                  delivered: route.delivered().text
                })
              : error
          )
        }
        restart = midStream === "restart"
      }
      if (after === "refused") continue
      const decision = yield* recovery.decide(error, target)
      if (decision._tag === "Next") break
      yield* route.send([{ type: "retrying", attempt: decision.attempt, delay: decision.delay, error }])
      yield* Effect.sleep(decision.delay)
    }
  }
  return yield* Effect.fail(withDelivered(lastError as ChatError, route.delivered()))
}

/** How many events may wait for a slow consumer before the producer pauses. */
const capacity = 16

/**
 * One call's producer: runs the call, bounded by the `total` deadline, under
 * the call's span (if any); its events reach the consumer through `route`.
 */
export const producer = (
  engine: Engine,
  schedule: Schedule.Schedule<unknown, ChatError>,
  request: ChatRequest,
  route: (sink: Handoff.Sink<StreamEvent>) => Route,
  span: Tracer.AnySpan | undefined
): Handoff.Producer<StreamEvent, ChatError> => ({
  produce: (sink, scope) => run(engine, schedule, request, route(sink), scope),
  capacity,
  deadline: Deadlines.total({ provider: engine.provider, model: request.model }, engine.deadlines),
  ...(span === undefined ? {} : { span })
})
