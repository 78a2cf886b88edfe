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

/**
 * The stream of what `produce` sends, ending when it ends. At most
 * `capacity` items wait for a slow consumer.
 */
export const stream = <A, E>(
  produce: (sink: Sink<A>) => Effect.Effect<unknown, E>,
  capacity: number,
  deadline?: Deadline<E>
): Stream.Stream<A, E> =>
  Stream.fromChannel(
    Channel.fromTransform((_, scope: Scope.Scope) =>
      Effect.gen(function* () {
        const handoff = make<A, E>(capacity)
        let expired: Exit.Exit<never, E> | undefined
        let cancel: (() => void) | undefined
        const producer = yield* Effect.forkIn(
          Effect.onExit(produce(handoff.sink), (exit) =>
            Effect.sync(() => {
              cancel?.()
              handoff.end(expired ?? exit)
            })
          ),
          scope,
          { startImmediately: true }
        )
        if (deadline !== undefined && producer.pollUnsafe() === undefined) {
          cancel = (yield* deadline)((error) => {
            expired = Exit.fail(error)
            producer.interruptUnsafe()
          })
        }
        return handoff.take as Pull.Pull<NonEmptyReadonlyArray<A>, E>
      })
    )
  )
