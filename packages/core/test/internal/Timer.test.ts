import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { TestClock } from "effect/testing"
import * as Timer from "../../src/internal/Timer.ts"

/** A deadline that records when it expired. */
class Recorded extends Timer.Watch {
  readonly expired: Array<number> = []
  /** Called after each expiry. */
  onExpire: () => void = () => {}
  private readonly deadline: () => number

  constructor(timer: Timer.Timer, deadline: () => number, every?: number) {
    super(timer, every)
    this.deadline = deadline
  }

  due(): number {
    return this.deadline()
  }

  protected expire(): void {
    this.expired.push(this.timer.now())
    this.onExpire()
  }
}

const watched = (timer: Timer.Timer, due: () => number, every?: number) => new Recorded(timer, due, every)

describe("Timer", () => {
  it.effect(
    "under a TestClock, wakes a watch when the clock reaches its deadline, and not once stopped",
    () =>
      Effect.gen(function* () {
        const timer = yield* Timer.make
        const a = watched(timer, () => 1000)
        const b = watched(timer, () => 1000)
        a.start()
        b.start().stop()
        yield* TestClock.adjust("999 millis")
        assert.deepStrictEqual(a.expired, [])
        assert.strictEqual(timer.now(), 999)
        yield* TestClock.adjust("1 millis")
        assert.deepStrictEqual([a.expired, b.expired], [[1000], []])
      })
  )

  it.live("with the live clock, wakes a watch from a host timer at its deadline, and not once stopped", () =>
    Effect.gen(function* () {
      const timer = yield* Timer.make
      const start = timer.now()
      const early = watched(timer, () => start + 5)
      const watch = early.start()
      yield* Effect.callback<void>((resume) => {
        const last = watched(timer, () => start + 20)
        last.onExpire = () => resume(Effect.void)
        last.start()
      })
      watch.stop()
      assert.isAtLeast(Date.now() - start, 19)
      assert.strictEqual(early.expired.length, 1)
      const late = watched(timer, () => timer.now() + 5)
      late.start().stop()
      yield* Effect.sleep("20 millis")
      assert.deepStrictEqual(late.expired, [])
    })
  )
})

describe("Timer.Watch", () => {
  it.effect(
    "expires once the deadline has passed, following it as it moves later, and not once cancelled",
    () =>
      Effect.gen(function* () {
        const timer = yield* Timer.make
        let deadline = 1000
        const target = watched(timer, () => deadline)
        const { expired } = target
        target.start()
        yield* TestClock.adjust("600 millis")
        deadline = 1500
        yield* TestClock.adjust("600 millis")
        assert.deepStrictEqual(expired, [], "the deadline moved to 1.5 s before the first wake")
        yield* TestClock.adjust("300 millis")
        assert.deepStrictEqual(expired, [1500])
        yield* TestClock.adjust("10 seconds")
        assert.deepStrictEqual(expired, [1500], "once")

        const stopped = watched(timer, () => timer.now() + 100)
        stopped.start().stop()
        yield* TestClock.adjust("1 second")
        assert.deepStrictEqual(stopped.expired, [])
      })
  )

  it.effect("with `every`, catches a deadline that moved earlier on its next wake", () =>
    Effect.gen(function* () {
      const timer = yield* Timer.make
      let deadline = 10_000
      const target = watched(timer, () => deadline, 250)
      const { expired } = target
      target.start()
      yield* TestClock.adjust("100 millis")
      deadline = 400
      yield* TestClock.adjust("400 millis")
      assert.deepStrictEqual(expired, [400], "woke at 250, saw the deadline at 400 and waited for it")
    })
  )
})
