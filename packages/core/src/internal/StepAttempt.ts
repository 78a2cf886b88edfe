/**
 * One attempt of a chain step: a static or cached answer, or a model attempt
 * in its span, after the target's cooldown (fed back after it failed).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import { type ChatError, NotFound } from "../ChatError.ts"
import type { ChatRequest } from "../ChatRequest.ts"
import type { Finish } from "../StreamEvent.ts"
import * as Attempt from "./Attempt.ts"
import type * as Chain from "./Chain.ts"
import * as Continuation from "./Continuation.ts"
import * as ContinuationRequest from "./ContinuationRequest.ts"
import type * as Cooldown from "./Cooldown.ts"
import type { Engine } from "./Engine.ts"
import type * as Recovery from "./Recovery.ts"
import type * as Relay from "./Relay.ts"
import type * as Resume from "./Resume.ts"
import type { Route } from "./Route.ts"
import * as Span from "./Span.ts"

export type Outcome = Result.Result<Finish, ChatError>

/**
 * One attempt of a step: its outcome as a `Result`, or, for a streamed one,
 * the `Detached` wait for it, which the call yields: while it streams, the
 * call holds no fiber and no frame (its span, deadlines and fiber are the
 * attempt's own). A model attempt runs in its span, after the target's
 * cooldown.
 */
export const run = Effect.fnUntraced(function* (
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
  const span = yield* Effect.makeSpan("steadystream.chat.attempt", {
    attributes: {
      "gen_ai.system": target.service.provider,
      "gen_ai.request.model": target.model,
      "steadystream.attempt.streaming": target.streaming,
      "steadystream.attempt.continuation": delivered.text !== ""
    }
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
  return yield* Attempt.streamed(target, route, engine.deadlines, guard, leg, span, ended)
})
