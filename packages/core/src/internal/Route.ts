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

// One object per call, its steps as methods.
class SinkRoute implements Route {
  private current: Continuation.Delivered
  private readonly observer: CallObserver
  private readonly sink: Handoff.Sink<StreamEvent>

  constructor(observer: CallObserver, sink: Handoff.Sink<StreamEvent>, text: string) {
    this.observer = observer
    this.sink = sink
    this.current = text === "" ? Continuation.empty : { ...Continuation.empty, text }
  }

  delivered(): Continuation.Delivered {
    return this.current
  }

  send(events: ReadonlyArray<StreamEvent>, next?: Continuation.Delivered): Effect.Effect<void> {
    if (next !== undefined) this.current = next
    const observed = this.observer.events(events)
    return observed === undefined
      ? this.sink.send(events)
      : Effect.andThen(
          observed,
          Effect.suspend(() => this.sink.send(events))
        )
  }
}

/** A route into the sink of the call's stream, observed by the call's telemetry on the way; its consumer already has `text` (none by default). */
export const toSink =
  (observer: CallObserver, text = "") =>
  (sink: Handoff.Sink<StreamEvent>): Route =>
    new SinkRoute(observer, sink, text)
