/**
 * Spans at the least cost per open stream: a call keeps its spans for as
 * long as it streams, so every frame and context copy a span adds is memory
 * held per stream.
 *
 * A span is opened by hand (`Effect.makeSpan`) and given to the work that
 * runs in it as its parent (`within`: one context update, where
 * `Effect.withParentSpan` also provides a stack frame); `end` ends it. No
 * frame waits for the span while its work runs in fibers of its own.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Tracer from "effect/Tracer"

/** Ends `span` with `exit`, now (once: a span already ended stays as it was). */
export const end = (span: Tracer.Span, exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> =>
  Effect.map(Clock.currentTimeNanos, (now) => {
    if (span.status._tag !== "Ended") span.end(now, exit)
  })

/** Runs `effect` as a child of `span`. */
export const within = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  span: Tracer.AnySpan
): Effect.Effect<A, E, R> => Effect.provideService(effect, Tracer.ParentSpan, span)
