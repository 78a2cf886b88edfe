/**
 * Spans at the least cost per open stream: a call keeps its spans for as
 * long as it streams, so every frame and context copy a span adds is memory
 * held per stream.
 *
 * - `around`: a span around an effect at the cost of one context update (the
 *   span is provided as the parent of the spans inside, with no stack frame,
 *   where `Effect.withSpan` adds a second copy of the context).
 * - `open` and `end`: a span opened and ended by hand, for work that runs in
 *   fibers of its own (given the span as their parent when forked), so that
 *   no frame at all waits for it.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Tracer from "effect/Tracer"

export const around = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  name: string,
  attributes: Record<string, unknown>
): Effect.Effect<A, E, R> =>
  Effect.useSpan(name, { attributes }, (span) => Effect.provideService(effect, Tracer.ParentSpan, span))

/** Opens a span, a child of the current one; `end` ends it. */
export const open = (name: string, attributes: Record<string, unknown>): Effect.Effect<Tracer.Span> =>
  Effect.makeSpan(name, { attributes })

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
