import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Relay from "../../src/internal/Relay.ts"

/** Runs `program` to its end; its exit. */
const run = <E>(program: Relay.Program<E>) =>
  Effect.flatMap(Effect.context<never>(), (context) =>
    Effect.callback<Exit.Exit<unknown, E>>((resume) => {
      new Relay.Relay(program, context, { ended: (exit) => resume(Effect.succeed(exit)) }).start()
    })
  )

/** Detached work that ends when `finish` is called, and records whether it was stopped. */
const work = <A>() => {
  const state: { finish?: (value: A) => void; stopped: boolean; started: number } = {
    stopped: false,
    started: 0
  }
  const detached = () =>
    new Relay.Detached<A>((resume) =>
      Effect.sync(() => {
        state.started++
        state.finish = (value) => resume(Effect.succeed(value))
        return Effect.sync(() => {
          state.stopped = true
        })
      })
    )
  return { state, detached }
}

/** What the programs here are. */
type Steps<A> = Generator<Relay.Instruction<never>, A, unknown>

describe("Relay", () => {
  it.effect(
    "runs a generator's effects in order and gives each its result, and detached work its outcome",
    () =>
      Effect.gen(function* () {
        const { state, detached } = work<number>()
        const seen: Array<unknown> = []
        const exit = yield* run(
          (function* (): Steps<string> {
            seen.push(yield* Effect.succeed(1))
            seen.push(yield* detached())
            seen.push(yield* Effect.map(Effect.yieldNow, () => 3))
            return "done"
          })()
        ).pipe(
          Effect.forkChild,
          Effect.tap(() => Effect.yieldNow),
          Effect.tap(() => Effect.sync(() => state.finish?.(2))),
          Effect.flatMap(Fiber.join)
        )
        assert.deepStrictEqual(seen, [1, 2, 3])
        assert.deepStrictEqual(exit, Exit.succeed("done"))
        assert.isFalse(state.stopped)
      })
  )

  it.effect("goes on at once with work that ended while it started", () =>
    Effect.gen(function* () {
      const exit = yield* run(
        (function* () {
          const value = yield* new Relay.Detached<string>((resume) =>
            Effect.sync(() => {
              resume(Effect.succeed("at once"))
              return Effect.void
            })
          )
          return value
        })()
      )
      assert.deepStrictEqual(exit, Exit.succeed("at once"))
    })
  )

  it.effect("ends with the failure of a yielded effect, or of the work's outcome", () =>
    Effect.gen(function* () {
      const failed = yield* run(
        (function* () {
          yield* Effect.fail("boom")
          return "unreachable"
        })()
      )
      assert.deepStrictEqual(failed, Exit.fail("boom"))
      const outcome = yield* run(
        (function* (): Steps<void> {
          yield* new Relay.Detached<never>((resume) =>
            Effect.sync(() => {
              resume(Effect.die("defect"))
              return Effect.void
            })
          )
        })()
      )
      assert.isTrue(Exit.hasDies(outcome))
    })
  )

  it.effect("stop, while it waits, stops the work and ends interrupted; a late outcome is ignored", () =>
    Effect.gen(function* () {
      const { state, detached } = work<number>()
      let after = false
      const ended: Array<Exit.Exit<unknown, unknown>> = []
      const context = yield* Effect.context<never>()
      const relay = new Relay.Relay(
        (function* (): Steps<void> {
          yield* detached()
          after = true
        })(),
        context,
        { ended: (exit) => ended.push(exit) }
      )
      relay.start()
      assert.strictEqual(state.started, 1)
      yield* relay.stop()
      assert.isTrue(state.stopped)
      assert.strictEqual(ended.length, 1)
      assert.isTrue(Exit.hasInterrupts(ended[0]!))
      state.finish?.(1)
      yield* Effect.yieldNow
      assert.isFalse(after, "the program did not go on")
      assert.strictEqual(ended.length, 1, "ended once")
    })
  )

  it.effect("stop, while a step waits on an effect, interrupts it", () =>
    Effect.gen(function* () {
      let interrupted = false
      const ended: Array<Exit.Exit<unknown, unknown>> = []
      const context = yield* Effect.context<never>()
      const relay = new Relay.Relay(
        (function* () {
          yield* Effect.never.pipe(
            Effect.onInterrupt(() =>
              Effect.sync(() => {
                interrupted = true
              })
            )
          )
        })(),
        context,
        { ended: (exit) => ended.push(exit) }
      )
      relay.start()
      yield* relay.stop()
      assert.isTrue(interrupted)
      assert.isTrue(Exit.hasInterrupts(ended[0]!))
    })
  )

  it.effect(
    "stop, called from within a running step, starts no more work: the step ends at its next yield",
    () =>
      Effect.gen(function* () {
        const { state, detached } = work<number>()
        const ended: Array<Exit.Exit<unknown, never>> = []
        const context = yield* Effect.context<never>()
        let stopping: Effect.Effect<void> = Effect.void
        const relay: Relay.Relay<never> = new Relay.Relay(
          (function* () {
            // What a consumer does when the step hands it the event it was waiting for and it stops at once.
            yield* Effect.sync(() => {
              stopping = Fiber.join(Effect.runFork(relay.stop()))
            })
            yield* detached()
          })(),
          context,
          { ended: (exit) => ended.push(exit) }
        )
        relay.start()
        yield* stopping
        assert.strictEqual(state.started, 0, "no work started")
        assert.strictEqual(ended.length, 1)
        assert.isTrue(Exit.hasInterrupts(ended[0]!))
      })
  )

  it.live(
    "stop, called while detached work starts, stops that work: in a first step, and in a step that waited before",
    () =>
      Effect.forEach([false, true], (waitsFirst) =>
        Effect.gen(function* () {
          let stopped = false
          const ended: Array<Exit.Exit<unknown, never>> = []
          const context = yield* Effect.context<never>()
          let stopping: Effect.Effect<void> = Effect.void
          const relay: Relay.Relay<never> = new Relay.Relay(
            (function* (): Steps<void> {
              // After an asynchronous wait, the step runs in a fiber the relay knows (and interrupts).
              if (waitsFirst) yield* Effect.sleep(1)
              yield* new Relay.Detached<void>(() =>
                Effect.sync(() => {
                  // The work's first events reached a consumer that stopped the stream at once.
                  stopping = Fiber.join(Effect.runFork(relay.stop()))
                  return Effect.sync(() => {
                    stopped = true
                  })
                })
              )
            })(),
            context,
            { ended: (exit) => ended.push(exit) }
          )
          relay.start()
          if (waitsFirst) yield* Effect.sleep(20)
          yield* stopping
          assert.isTrue(stopped, `the work was stopped (waitsFirst: ${waitsFirst})`)
          assert.strictEqual(ended.length, 1)
          assert.isTrue(Exit.hasInterrupts(ended[0]!))
        })
      )
  )
})
