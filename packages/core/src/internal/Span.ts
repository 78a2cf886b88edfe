/**
 * A span around an effect at the cost of one context update: the span is
 * provided as the parent of the spans inside, with no stack frame (what
 * `Effect.withSpan` adds too, in a second copy of the context). A call keeps
 * its spans' contexts for as long as it streams, so each copy is memory held
 * per open stream.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Tracer from "effect/Tracer"

export const around = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  name: string,
  attributes: Record<string, unknown>
): Effect.Effect<A, E, R> =>
  Effect.useSpan(name, { attributes }, (span) => Effect.provideService(effect, Tracer.ParentSpan, span))
