/**
 * The one way events reach the consumer: each handoff also records what the
 * consumer has now received, so the exactly-once state changes only when
 * content is actually handed over.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { CallObserver } from "../ChatTelemetry.ts"
import type { StreamEvent } from "../StreamEvent.ts"
import * as Continuation from "./Continuation.ts"
import type * as Handoff from "./Handoff.ts"

export interface Route {
  /** What the consumer has received so far. */
  readonly delivered: () => Continuation.Delivered
  /**
   * Records `delivered` as the consumer's state after `events` and hands them
   * over (in one batch) when called, unless the call's telemetry has something
   * to record first; the effect waits while a slow consumer has a full buffer.
   */
  readonly send: (
    events: ReadonlyArray<StreamEvent>,
    delivered?: Continuation.Delivered
  ) => Effect.Effect<void>
}

/** A route into the sink of the call's stream, observed by the call's telemetry on the way; its consumer already has `text` (none by default). */
export const toSink =
  (observer: CallObserver, text = "") =>
  (sink: Handoff.Sink<StreamEvent>): Route => {
    let delivered: Continuation.Delivered = { ...Continuation.empty, text }
    return {
      delivered: () => delivered,
      send: (events, next) => {
        if (next !== undefined) delivered = next
        const observed = observer.events(events)
        return observed === undefined
          ? sink.send(events)
          : Effect.andThen(
              observed,
              Effect.suspend(() => sink.send(events))
            )
      }
    }
  }
