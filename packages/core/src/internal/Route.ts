/**
 * The one way events reach the consumer: each handoff also records what the
 * consumer has now received, so the exactly-once state changes only when
 * content is actually handed over.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type { CallObserver } from "../ChatTelemetry.ts"
import type { StreamEvent } from "../StreamEvent.ts"
import * as Continuation from "./Continuation.ts"

export interface Route {
  /** What the consumer has received so far. */
  readonly delivered: () => Continuation.Delivered
  /**
   * Hands `events` over (in one batch) and records `delivered` as the
   * consumer's state after them. Its result means nothing (it is the queue's,
   * left unmapped on this per-token path).
   */
  readonly send: (
    events: ReadonlyArray<StreamEvent>,
    delivered?: Continuation.Delivered
  ) => Effect.Effect<unknown>
}

/** A route into the queue of a `Stream.callback`, observed by the call's telemetry on the way; its consumer already has `text` (none by default). */
export const toQueue =
  (observer: CallObserver, text = "") =>
  <E>(queue: Queue.Queue<StreamEvent, E>): Route => {
    let delivered: Continuation.Delivered = { ...Continuation.empty, text }
    return {
      delivered: () => delivered,
      send: (events, next) => {
        if (next !== undefined) delivered = next
        const offer: Effect.Effect<unknown> =
          events.length === 1 ? Queue.offer(queue, events[0] as StreamEvent) : Queue.offerAll(queue, events)
        const observed = observer.events(events)
        return observed === undefined ? offer : Effect.andThen(observed, offer)
      }
    }
  }
