/**
 * One call across the chain: each step's attempts, with recovery between
 * them, until an answer finishes or nothing is left.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import type * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import type * as Tracer from "effect/Tracer"
import { fromEvents } from "../ChatCompletion.ts"
import { type ChatError, NotFound, StreamTruncated } from "../ChatError.ts"
import type { ChatRequest } from "../ChatRequest.ts"
import type * as ResiliencePolicy from "../ResiliencePolicy.ts"
import type * as ResponseCache from "../ResponseCache.ts"
import type { Finish, StreamEvent } from "../StreamEvent.ts"
import * as Attempt from "./Attempt.ts"
import type * as Breaker from "./Breaker.ts"
import type * as Chain from "./Chain.ts"
import * as Continuation from "./Continuation.ts"
import * as ContinuationRequest from "./ContinuationRequest.ts"
import type * as Cooldown from "./Cooldown.ts"
import * as Deadlines from "./Deadlines.ts"
import type * as Handoff from "./Handoff.ts"
import * as Recovery from "./Recovery.ts"
import * as Relay from "./Relay.ts"
import * as Resume from "./Resume.ts"
import type { Route } from "./Route.ts"
import * as Span from "./Span.ts"

/** What a call needs, built once per `ResilientChat`. */
export interface Engine {
  /** The primary model's provider, for errors of the whole call. */
  readonly provider: string
  readonly steps: ReadonlyArray<Chain.Step>
  /** How a model attempt's text is read (the policy's `minOverlap`). */
  readonly kind: Continuation.Kind
  /** Whether a step's model can resume a broken generation (else no call tracks resume points). */
  readonly resumable: boolean
  readonly policy: ResiliencePolicy.Resolved
  readonly deadlines: Deadlines.Options
  readonly guard: Breaker.Guard
  readonly cooldown: Cooldown.Cooldown
  readonly cache: ResponseCache.Service
  readonly caching: boolean
}

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

type Outcome = Result.Result<Finish, ChatError>

/**
 * One attempt of a step: its outcome as a `Result`, or, for a streamed one,
 * the `Detached` wait for it, which the call yields: while it streams, the
 * call holds no fiber and no frame (its span, deadlines and fiber are the
 * attempt's own). A model attempt runs in its span, after the target's
 * cooldown.
 */
const attempt = Effect.fnUntraced(function* (
  engine: Engine,
  recovery: Recovery.Recovery,
  request: ChatRequest,
  step: Chain.Step,
  target: Chain.Target | undefined,
  route: Route,
  resume: Resume.Tracker
): Effect.fn.Return<Outcome | Relay.Detached<Outcome>> {
  if (step._tag === "Static") {
    const source = { provider: "static", model: request.model }
    return yield* Effect.result(Attempt.whole(source, step.completion, { _tag: "Whole" }, route))
  }
  if (target === undefined) {
    const source = { provider: "cache", model: request.model }
    const cached = yield* engine.cache.get(request)
    return yield* Effect.result(
      cached === undefined
        ? Effect.fail(new NotFound({ ...source, message: "No cached response" }))
        : Attempt.whole(source, cached, { _tag: "Whole" }, route)
    )
  }
  const delivered = route.delivered()
  const mode = target.service.continuation ?? "instruction"
  const forTarget = target.model === request.model ? request : { ...request, model: target.model }
  const next = ContinuationRequest.make(forTarget, delivered.text, {
    mode,
    instruction: engine.policy.continuation.instruction
  })
  const source = Attempt.sourceOf(target)
  const keyed = { ...source, key: target.key }
  const guard: Attempt.Guard = (effect) => engine.guard(keyed, effect)
  const kind = engine.kind
  const bounds: Cooldown.Bounds = {
    fits: (delay) => recovery.fits(delay),
    announce: (delay) => route.send([{ type: "cooldown", model: target.model, delay }])
  }
  const span = yield* Span.open("steadystream.chat.attempt", {
    "gen_ai.system": target.service.provider,
    "gen_ai.request.model": target.model,
    "steadystream.attempt.streaming": target.streaming,
    "steadystream.attempt.continuation": delivered.text !== ""
  })
  const waited = yield* Effect.onInterrupt(
    Effect.result(Span.within(engine.cooldown.wait(keyed, bounds), span)),
    () => Span.end(span, Exit.interrupt())
  )
  if (Result.isFailure(waited)) {
    yield* Span.end(span, Exit.fail(waited.failure))
    return Result.fail(waited.failure)
  }
  // How the attempt ended is fed back to the cooldown (a 429's Retry-After), then ends its span.
  const ended = (exit: Exit.Exit<Finish, ChatError>) => {
    const error = Exit.isFailure(exit) ? Exit.findErrorOption(exit) : undefined
    return error === undefined || error._tag === "None"
      ? Span.end(span, exit)
      : Effect.andThen(engine.cooldown.feedback(keyed, waited.success, error.value), Span.end(span, exit))
  }
  if (!target.streaming) {
    const whole = Effect.flatMap(guard(target.service.complete(next)), (completion) =>
      Attempt.whole(source, completion, kind, route)
    )
    return yield* Effect.result(Effect.onExit(Span.within(whole, span), ended))
  }
  const leg = yield* resume.leg(target, next, () => Continuation.start(delivered, kind))
  return yield* Attempt.streamed(target, next, kind, route, engine.deadlines, guard, leg, span, ended)
})

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
): Generator<Relay.Instruction<ChatError>, void, any> {
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
      const started = yield* attempt(engine, recovery, request, step, target, route, resume)
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
