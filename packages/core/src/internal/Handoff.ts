/**
 * A stream fed by a producer fiber through a synchronous handoff: what the
 * producer sends reaches a waiting consumer at once, in the producer's turn,
 * instead of a scheduler turn later (as a `Queue` releases its takers). With
 * tokens arriving one per packet, that turn was most of the engine's cost per
 * token. Like `Stream.callback`: the producer runs in the stream's scope
 * (stopping the consumer interrupts it), it pauses while `capacity` items
 * wait, and its failure fails the stream after what it sent. When its
 * `deadline` expires first, the producer is interrupted and the stream fails
 * with the deadline's error.
 *
 * @internal
 */
import type { NonEmptyReadonlyArray } from "effect/Array"
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Pull from "effect/Pull"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/** The producer's side. */
export interface Sink<A> {
  /**
   * Hands `items` over when called (a waiting consumer takes them at once);
   * the effect waits while the consumer has `capacity` items still to take.
   */
  readonly send: (items: ReadonlyArray<A>) => Effect.Effect<void>
}

type Resume<A> = (effect: Effect.Effect<A, never>) => void

const make = <A, E>(capacity: number) => {
  let buffer: Array<A> = []
  let taker: ((effect: Pull.Pull<ReadonlyArray<A>, E>) => void) | undefined
  let giver: Resume<void> | undefined
  let ended: Exit.Exit<never, E | Cause.Done> | undefined
  const drain = (): ReadonlyArray<A> => {
    const out = buffer
    buffer = []
    if (giver !== undefined) {
      const resume = giver
      giver = undefined
      resume(Effect.void)
    }
    return out
  }
  const wake = () => {
    if (taker === undefined) return
    const resume = taker
    taker = undefined
    resume(buffer.length > 0 ? Effect.succeed(drain()) : (ended as Exit.Exit<never, E | Cause.Done>))
  }
  const waitForItems = Effect.callback<ReadonlyArray<A>, E | Cause.Done>((resume) => {
    taker = resume
    return Effect.sync(() => {
      if (taker === resume) taker = undefined
    })
  })
  const waitForRoom = Effect.callback<void>((resume) => {
    giver = resume
    return Effect.sync(() => {
      if (giver === resume) giver = undefined
    })
  })
  const take: Pull.Pull<ReadonlyArray<A>, E> = Effect.suspend(() =>
    buffer.length > 0 ? Effect.succeed(drain()) : (ended ?? waitForItems)
  )
  const sink: Sink<A> = {
    send: (items) => {
      if (ended !== undefined || items.length === 0) return Effect.void
      for (const item of items) buffer.push(item)
      wake()
      return buffer.length < capacity ? Effect.void : waitForRoom
    }
  }
  const end = (exit: Exit.Exit<unknown, E>) => {
    ended = Exit.isSuccess(exit) ? Exit.fail(Cause.Done()) : (exit as Exit.Exit<never, E>)
    wake()
  }
  return { take, sink, end }
}

/**
 * Arms a deadline: calls `expire` when time is up, unless the returned
 * cancel was called first.
 */
export type Deadline<E> = Effect.Effect<(expire: (error: E) => void) => () => void>

/** What feeds one stream: its producer, how many items may wait, and its deadline. */
export interface Producer<A, E> {
  readonly produce: (sink: Sink<A>) => Effect.Effect<unknown, E>
  readonly capacity: number
  readonly deadline?: Deadline<E>
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
      Effect.flatMap(open(scope), ({ produce, capacity, deadline }) => {
        const handoff = make<A, E>(capacity)
        let expired: Exit.Exit<never, E> | undefined
        let cancel: (() => void) | undefined
        const running = Effect.forkIn(
          Effect.onExit(produce(handoff.sink), (exit) =>
            Effect.sync(() => {
              cancel?.()
              handoff.end(expired ?? exit)
            })
          ),
          scope,
          { startImmediately: true }
        )
        const take = handoff.take as Pull.Pull<NonEmptyReadonlyArray<A>, E>
        return Effect.flatMap(running, (producer) =>
          deadline === undefined || producer.pollUnsafe() !== undefined
            ? Effect.succeed(take)
            : Effect.map(deadline, (arm) => {
                cancel = arm((error) => {
                  expired = Exit.fail(error)
                  producer.interruptUnsafe()
                })
                return take
              })
        )
      })
    )
  )
