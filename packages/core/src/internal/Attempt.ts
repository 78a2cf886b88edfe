/**
 * One attempt: a streamed or non-streaming call to a model target, or a whole
 * answer (cache, static text). Its events are read by `Continuation` (only
 * verified, new content goes out) and handed to the consumer by the route,
 * `finish` included.
 *
 * @internal
 */
import type * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Pull from "effect/Pull"
import type * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import type { ChatCompletion } from "../ChatCompletion.ts"
import { type ChatError, ContinuationRejected, StreamTruncated } from "../ChatError.ts"
import type { ModelEvent } from "../ModelEvent.ts"
import type { Finish } from "../StreamEvent.ts"
import type { Target } from "./Chain.ts"
import * as Continuation from "./Continuation.ts"
import * as Deadlines from "./Deadlines.ts"
import type * as Relay from "./Relay.ts"
import type { Leg } from "./Resume.ts"
import type { Route } from "./Route.ts"

/** Runs the start of an answer through the circuit breaker of the target's key. */
export type Guard = <A>(effect: Effect.Effect<A, ChatError>) => Effect.Effect<A, ChatError>

/** Who answered, for errors. */
export interface Source {
  readonly provider: string
  readonly model: string
}

export const sourceOf = (target: Target): Source => ({
  provider: target.service.provider,
  model: target.model
})

const truncated = (source: Source, route: Route, message: string) =>
  new StreamTruncated({ ...source, message, delivered: route.delivered().text })

/** The failure of an attempt whose reading was rejected: nothing of the rejected chunk went out. */
const rejected = (
  source: Source,
  route: Route,
  reading: Continuation.Reading,
  rejection: Continuation.Rejected
): Effect.Effect<never, ChatError> =>
  Effect.fail(
    reading.kind._tag === "Whole"
      ? truncated(source, route, "The fallback answer does not start with the text already delivered")
      : new ContinuationRejected({
          ...source,
          reason: rejection.reason,
          message: `Continuation rejected (${rejection.reason}): ${rejection.detail}`,
          delivered: route.delivered().text
        })
  )

/** Reads `chunk` and hands its output over; the finish event when the chunk completes the answer. */
const deliver = (
  source: Source,
  route: Route,
  reading: Continuation.Reading,
  chunk: ReadonlyArray<ModelEvent>
): Effect.Effect<Continuation.Step, ChatError> => {
  const step = Continuation.read(reading, route.delivered(), chunk)
  if (Continuation.isRejected(step)) return rejected(source, route, reading, step)
  return step.events.length === 0
    ? Effect.succeed(step)
    : Effect.as(route.send(step.events, step.delivered), step)
}

/**
 * Streams one attempt under the first-token and idle deadlines; a stream that
 * ends without a `finish` event is `StreamTruncated`.
 *
 * `guard` (the circuit breaker) covers the start of the answer only: up to the
 * first chunk. The first-token deadline stays outside the guard: raced inside
 * it (inside the breaker's uninterruptible region), 50 concurrent calls saw
 * spurious first-token timeouts that tripped the breaker; outside, an expired
 * deadline interrupts the guarded pull, which the breaker ignores.
 *
 * `leg` (from `Resume`) says what to read (a fresh model stream, or a
 * resumed generation) and where the reading starts, and records each step.
 *
 * The attempt runs in a fiber of its own under `span`; `ended` sees its exit
 * first, and the caller gets it as a `Result`.
 */
export const streamed = (
  target: Target,
  route: Route,
  deadlines: Deadlines.Options,
  guard: Guard,
  leg: Leg,
  span: Tracer.AnySpan,
  ended: (exit: Exit.Exit<Finish, ChatError>) => Effect.Effect<void>
): Effect.Effect<Relay.Detached<Result.Result<Finish, ChatError>>> => {
  const source = sourceOf(target)
  // Everything of the attempt, its scope included, lives in the watchdog's fiber: nothing of it stays behind
  // while it streams.
  return Effect.map(Deadlines.watchdog(source, deadlines), (watchdog) =>
    watchdog.race(Effect.scopedWith(new Follower(source, route, watchdog, guard, leg).run), span, ended)
  )
}

// One streamed attempt's reading, its steps as functions sharing one object (they live as long as it
// streams). The hot loop, one pulled chunk per turn, is kept to a few steps: read the chunk (pure), hand
// its events over, pull again; a stream that ends (Done) before the finish event is truncated.
class Follower {
  private reading: Continuation.Reading
  private pull: Pull.Pull<ReadonlyArray<ModelEvent>, ChatError> = Effect.never
  private loop: Effect.Effect<Finish, ChatError | Cause.Done> = Effect.never
  private readonly source: Source
  private readonly route: Route
  private readonly watchdog: Deadlines.Watchdog
  private readonly guard: Guard
  private readonly leg: Leg

  constructor(source: Source, route: Route, watchdog: Deadlines.Watchdog, guard: Guard, leg: Leg) {
    this.source = source
    this.route = route
    this.watchdog = watchdog
    this.guard = guard
    this.leg = leg
    this.reading = leg.reading
  }

  /** Reads the attempt's stream in `scope` until the answer finishes. */
  readonly run = (scope: Scope.Scope): Effect.Effect<Finish, ChatError> =>
    // One fiber pulls: no semaphore or context copy per pull (as Stream.toPull adds).
    Effect.flatMap(Channel.toPullScoped(Stream.toChannel(this.leg.events), scope), this.follow)

  private readonly follow = (pull: Pull.Pull<ReadonlyArray<ModelEvent>, ChatError>) => {
    this.pull = pull
    this.loop = Effect.flatMap(pull, this.onChunk)
    // The breaker guards the first pull only. (Built when run, so that the frame waiting for the end of the
    // answer does not hold the guard's effects.)
    return this.ended(Effect.suspend(this.first))
  }

  private readonly first = () => Effect.flatMap(this.guard(this.ended(this.pull)), this.onChunk)

  private readonly onChunk = (
    chunk: ReadonlyArray<ModelEvent>
  ): Effect.Effect<Finish, ChatError | Cause.Done> => {
    this.watchdog.hold()
    const route = this.route
    const step = Continuation.read(this.reading, route.delivered(), chunk)
    if (Continuation.isRejected(step)) return rejected(this.source, route, this.reading, step)
    this.reading = step.reading
    this.leg.record(step.reading, step.finish !== undefined)
    if (step.finish !== undefined) return Effect.as(route.send(step.events, step.delivered), step.finish)
    if (step.events.length === 0) return this.pullAgain()
    // Handed over with room to spare (the common case): pull again at once, with no step in between.
    const sent = route.send(step.events, step.delivered)
    return sent === Effect.void ? this.pullAgain() : Effect.flatMap(sent, this.pullAgain)
  }

  // The idle deadline times the model, not the consumer: it is held during the handoff and starts again
  // once a slow consumer has taken it.
  private readonly pullAgain = () => {
    this.watchdog.touch()
    return this.loop
  }

  private readonly truncate = () =>
    Effect.fail(truncated(this.source, this.route, "The stream ended without a finish event"))

  private ended<A>(effect: Effect.Effect<A, ChatError | Cause.Done>): Effect.Effect<A, ChatError> {
    return Pull.catchDone(effect, this.truncate)
  }
}

/** The model events a whole answer stands for. */
const eventsOf = (completion: ChatCompletion): ReadonlyArray<ModelEvent> => [
  { type: "text-delta", delta: completion.text },
  ...(completion.toolCalls ?? []).map(
    (call, index): ModelEvent => ({
      type: "tool-call-delta",
      index,
      id: call.id,
      name: call.name,
      argumentsDelta: call.arguments
    })
  ),
  {
    type: "finish",
    reason: completion.finishReason,
    ...(completion.rawFinishReason === undefined ? {} : { rawReason: completion.rawFinishReason }),
    ...(completion.usage === undefined ? {} : { usage: completion.usage })
  }
]

/**
 * A whole answer, read like a stream of one chunk: a non-streaming model
 * answer (`Model`: verified as a continuation of the delivered text) or a
 * cached or static one (`Whole`: used only when it starts with the delivered
 * text).
 */
export const whole = (
  source: Source,
  completion: ChatCompletion,
  kind: Continuation.Kind,
  route: Route
): Effect.Effect<Finish, ChatError> =>
  Effect.flatMap(
    deliver(source, route, Continuation.start(route.delivered(), kind), eventsOf(completion)),
    (step) =>
      step.finish === undefined
        ? Effect.fail(truncated(source, route, "The answer has no finish"))
        : Effect.succeed(step.finish)
  )
