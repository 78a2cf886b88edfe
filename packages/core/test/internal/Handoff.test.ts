import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as Handoff from "../../src/internal/Handoff.ts"
import * as Relay from "../../src/internal/Relay.ts"

const producer = <E = never>(
  produce: (sink: Handoff.Sink<number>) => Effect.Effect<unknown, E>,
  capacity = 16,
  deadline?: Handoff.Deadline<E>
): Handoff.Producer<number, E> => ({
  produce: (sink) => Relay.of(produce(sink)),
  capacity,
  ...(deadline === undefined ? {} : { deadline })
})

const sendAll = (sink: Handoff.Sink<number>, batches: ReadonlyArray<ReadonlyArray<number>>) =>
  Effect.forEach(batches, (batch) => sink.send(batch), { discard: true })

describe("Handoff", () => {
  it.effect("hands every batch over in order and ends when the producer ends", () =>
    Effect.gen(function* () {
      const stream = Handoff.stream(() =>
        Effect.succeed(producer((sink) => sendAll(sink, [[1], [2, 3], [], [4]])))
      )
      assert.deepStrictEqual(yield* Stream.runCollect(stream), [1, 2, 3, 4])
    })
  )

  it.effect("a waiting consumer gets a batch in the producer's turn, before the producer goes on", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      const stream = Handoff.stream(() =>
        Effect.succeed(
          producer((sink) =>
            Effect.gen(function* () {
              yield* Effect.yieldNow // the consumer is waiting now
              for (const n of [1, 2, 3]) {
                yield* sink.send([n])
                seen.push(`sent ${n}`)
                yield* Effect.yieldNow
              }
            })
          )
        )
      )
      yield* Stream.runForEach(stream, (n) => Effect.sync(() => seen.push(`got ${n}`)))
      assert.deepStrictEqual(seen, ["got 1", "sent 1", "got 2", "sent 2", "got 3", "sent 3"])
    })
  )

  it.effect("fails after what the producer sent when the producer fails", () =>
    Effect.gen(function* () {
      const got: Array<number> = []
      const stream = Handoff.stream(() =>
        Effect.succeed(
          producer<string>((sink) => Effect.andThen(sendAll(sink, [[1, 2]]), Effect.fail("boom")))
        )
      )
      const exit = yield* Effect.exit(Stream.runForEach(stream, (n) => Effect.sync(() => got.push(n))))
      assert.deepStrictEqual(got, [1, 2])
      assert.deepStrictEqual(exit, Exit.fail("boom"))
    })
  )

  it.effect("pauses the producer while `capacity` items wait for a slow consumer", () =>
    Effect.gen(function* () {
      let sent = 0
      let taken = 0
      const stream = Handoff.stream(() =>
        Effect.succeed(
          producer(
            (sink) =>
              Effect.forEach(
                [1, 2, 3, 4, 5, 6],
                (n) =>
                  Effect.map(sink.send([n]), () => {
                    sent++
                  }),
                { discard: true }
              ),
            2
          )
        )
      )
      const fiber = yield* Effect.forkChild(
        Stream.runForEach(stream, () =>
          Effect.andThen(
            Effect.sleep("1 second"),
            Effect.sync(() => {
              taken++
            })
          )
        )
      )
      yield* Effect.yieldNow
      // The first item is taken at once (the consumer waits); then two wait and the producer pauses.
      assert.isAtMost(sent - taken, 3)
      assert.isBelow(sent, 6)
      yield* Fiber.interrupt(fiber)
    })
  )

  it.effect(
    "when the deadline expires first, interrupts the producer and fails with the deadline's error",
    () =>
      Effect.gen(function* () {
        let finalized = false
        let expiry: Handoff.Expiry<string> | undefined
        let cancelled = false
        const deadline: Handoff.Deadline<string> = (told) =>
          Effect.sync(() => {
            expiry = told
            return {
              stop: () => {
                cancelled = true
              }
            }
          })
        const stream = Handoff.stream(() =>
          Effect.succeed(
            producer<string>(
              (sink) =>
                Effect.andThen(sendAll(sink, [[1]]), Effect.never).pipe(
                  Effect.ensuring(
                    Effect.sync(() => {
                      finalized = true
                    })
                  )
                ),
              16,
              deadline
            )
          )
        )
        const got: Array<number> = []
        const fiber = yield* Effect.forkChild(
          Effect.exit(Stream.runForEach(stream, (n) => Effect.sync(() => got.push(n))))
        )
        yield* Effect.yieldNow
        assert.deepStrictEqual(got, [1])
        expiry?.expired("too late")
        const exit = yield* Fiber.join(fiber)
        assert.deepStrictEqual(exit, Exit.fail("too late"))
        assert.isTrue(finalized, "the producer ran its finalizers")
        assert.isTrue(cancelled, "the deadline is cancelled once the producer ended")
      })
  )

  it.effect(
    "a producer that ends first cancels its deadline; a consumer that stops early stops the producer",
    () =>
      Effect.gen(function* () {
        let cancelled = false
        const deadline: Handoff.Deadline<never> = () =>
          Effect.succeed({
            stop: () => {
              cancelled = true
            }
          })
        const ended = Handoff.stream(() =>
          Effect.succeed(
            producer((sink) => Effect.andThen(Effect.yieldNow, sendAll(sink, [[1]])), 16, deadline)
          )
        )
        assert.deepStrictEqual(yield* Stream.runCollect(ended), [1])
        assert.isTrue(cancelled)

        let interrupted = false
        const endless = Handoff.stream(() =>
          Effect.succeed(
            producer((sink) =>
              // `send` hands over when called: once per turn of the loop.
              Effect.forever(
                Effect.andThen(
                  Effect.suspend(() => sink.send([1])),
                  Effect.yieldNow
                )
              ).pipe(
                Effect.onInterrupt(() =>
                  Effect.sync(() => {
                    interrupted = true
                  })
                )
              )
            )
          )
        )
        assert.deepStrictEqual(yield* Stream.runCollect(Stream.take(endless, 3)), [1, 1, 1])
        assert.isTrue(interrupted)
      })
  )
})
