/**
 * A stream fed by a producer through a synchronous handoff: what the
 * producer sends reaches a waiting consumer at once, in the producer's turn,
 * instead of a scheduler turn later (as a `Queue` releases its takers). With
 * tokens arriving one per packet, that turn was most of the engine's cost per
 * token. Like `Stream.callback`: the producer (a `Relay` program) runs in the
 * stream's scope (stopping the consumer stops it), it pauses while
 * `capacity` items wait, and its failure fails the stream after what it
 * sent. When its `deadline` expires first, the producer is stopped and the
 * stream fails with the deadline's error.
 *
 * @internal
 */
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Pull from "effect/Pull"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as Relay from "./Relay.ts"

/** The producer's side. */
export interface Sink<A> {
  /**
   * Hands `items` over when called (a waiting consumer takes them at once);
   * the effect waits while the consumer has `capacity` items still to take.
   */
  readonly send: (items: ReadonlyArray<A>) => Effect.Effect<void>
}

type Resume<A> = (effect: Effect.Effect<A, never>) => void

// One object per call, its steps as methods (no closures per call but the two effects it hands out, and the
// producer's wait for room, made the first time a slow consumer calls for it). A waiting side registers no
// cancel: a resume that comes after its fiber was interrupted is ignored.
class Handoff<A, E> implements Sink<A> {
  private buffer: Array<A> = []
  private taker: ((effect: Pull.Pull<ReadonlyArray<A>, E>) => void) | undefined = undefined
  private giver: Resume<void> | undefined = undefined
  private ended: Exit.Exit<never, E | Cause.Done> | undefined = undefined
  private readonly waitForItems: Effect.Effect<ReadonlyArray<A>, E | Cause.Done>
  private waitForRoom: Effect.Effect<void> | undefined = undefined
  /** The consumer's pull. */
  readonly take: Pull.Pull<ReadonlyArray<A>, E>

  private readonly capacity: number

  constructor(capacity: number) {
    this.capacity = capacity
    this.waitForItems = Effect.callback((resume) => {
      this.taker = resume
    })
    this.take = Effect.suspend(() =>
      this.buffer.length > 0 ? Effect.succeed(this.drain()) : (this.ended ?? this.waitForItems)
    )
  }

  send(items: ReadonlyArray<A>): Effect.Effect<void> {
    if (this.ended !== undefined || items.length === 0) return Effect.void
    const taker = this.taker
    if (taker !== undefined && this.buffer.length === 0) {
      // The consumer waits for exactly this: hand the batch over as it is.
      this.taker = undefined
      taker(Effect.succeed(items))
      return Effect.void
    }
    for (const item of items) this.buffer.push(item)
    this.wake()
    if (this.buffer.length < this.capacity) return Effect.void
    this.waitForRoom ??= Effect.callback((resume) => {
      this.giver = resume
    })
    return this.waitForRoom
  }

  /** The producer ended: after what it sent, the consumer sees the end (or the failure). */
  end(exit: Exit.Exit<unknown, E>): void {
    this.ended = Exit.isSuccess(exit) ? Exit.fail(Cause.Done()) : (exit as Exit.Exit<never, E>)
    this.wake()
  }

  private drain(): ReadonlyArray<A> {
    const out = this.buffer
    this.buffer = []
    const giver = this.giver
    if (giver !== undefined) {
      this.giver = undefined
      giver(Effect.void)
    }
    return out
  }

  private wake(): void {
    const taker = this.taker
    if (taker === undefined) return
    this.taker = undefined
    taker(
      this.buffer.length > 0 ? Effect.succeed(this.drain()) : (this.ended as Exit.Exit<never, E | Cause.Done>)
    )
  }
}

/** Told when a deadline has passed. */
export interface Expiry<E> {
  expired(error: E): void
}

/** Arms a deadline: `expiry` is told once time is up, unless it was stopped first. */
export type Deadline<E> = (expiry: Expiry<E>) => Effect.Effect<{ readonly stop: () => void }>

/** What feeds one stream: its producer, how many items may wait, its deadline, and its span. */
export interface Producer<A, E> {
  /**
   * The producer's program (run by a `Relay`: between its steps, while it
   * waits for detached work, no fiber waits for it). Given a scope of its
   * own, which closes when the stream's does, after the program has ended.
   */
  readonly produce: (sink: Sink<A>, scope: Scope.Scope) => Relay.Program<E>
  readonly capacity: number
  readonly deadline?: Deadline<E>
  /** The parent of the producer's spans. */
  readonly span?: Tracer.AnySpan
}

// The running producer of one stream and its deadline, as one object.
class Feed<A, E> implements Expiry<E>, Relay.Owner<E> {
  private relay: Relay.Relay<E> | undefined = undefined
  private deadline: { readonly stop: () => void } | undefined = undefined
  private expiredWith: Exit.Exit<never, E> | undefined = undefined
  private finished = false
  readonly handoff: Handoff<A, E>

  constructor(capacity: number) {
    this.handoff = new Handoff<A, E>(capacity)
  }

  /** Runs the producer, stopped when `scope` closes first; the consumer's pull. */
  start(producer: Producer<A, E>, scope: Scope.Scope): Effect.Effect<Pull.Pull<NonEmptyReadonlyArray<A>, E>> {
    const take = this.handoff.take as Pull.Pull<NonEmptyReadonlyArray<A>, E>
    return Effect.flatMap(Effect.context<never>(), (context) => {
      const parented =
        producer.span === undefined ? context : Context.add(context, Tracer.ParentSpan, producer.span)
      // The producer's own scope closes after it has stopped (a scope's finalizers run last to first).
      const own = Scope.forkUnsafe(scope)
      const relay = new Relay.Relay(producer.produce(this.handoff, own), parented, this)
      this.relay = relay
      return Effect.andThen(
        Scope.addFinalizer(scope, relay.stop()),
        Effect.suspend(() => {
          relay.start()
          if (producer.deadline === undefined || this.finished) return Effect.succeed(take)
          return Effect.map(producer.deadline(this), (deadline) => {
            if (this.finished) deadline.stop()
            else this.deadline = deadline
            return take
          })
        })
      )
    })
  }

  expired(error: E): void {
    this.expiredWith = Exit.fail(error)
    this.relay?.stopUnsafe()
  }

  ended(exit: Exit.Exit<unknown, E>): void {
    this.finished = true
    this.deadline?.stop()
    this.handoff.end(this.expiredWith ?? exit)
  }
}

/**
 * The stream of what a producer sends, ending when it ends. `open` makes the
 * producer when the stream starts, in the stream's scope (a finalizer added
 * there sees how the stream ended); its failure fails the stream.
 */
export const stream = <A, E, R>(
  open: (scope: Scope.Scope) => Effect.Effect<Producer<A, E>, E, R>
): Stream.Stream<A, E, R> =>
  Stream.fromChannel(
    Channel.fromTransform((_, scope: Scope.Scope) =>
      Effect.flatMap(open(scope), (producer) => new Feed<A, E>(producer.capacity).start(producer, scope))
    )
  )
