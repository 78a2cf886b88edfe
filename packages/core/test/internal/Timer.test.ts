import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { TestClock } from "effect/testing"
import * as Timer from "../../src/internal/Timer.ts"

describe("Timer", () => {
  it.effect("under a TestClock, fires when the clock reaches the delay, and not once cancelled", () =>
    Effect.gen(function* () {
      const timer = yield* Timer.make
      const fired: Array<string> = []
      timer.after(1000, () => fired.push("a"))
      const cancel = timer.after(1000, () => fired.push("b"))
      cancel()
      yield* TestClock.adjust("999 millis")
      assert.deepStrictEqual(fired, [])
      assert.strictEqual(timer.now(), 999)
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(fired, ["a"])
    })
  )

  it.live("with the live clock, fires from a host timer after the delay, and not once cancelled", () =>
    Effect.gen(function* () {
      const timer = yield* Timer.make
      const start = Date.now()
      const fired: Array<string> = []
      const cancel = timer.after(5, () => fired.push("b"))
      yield* Effect.callback<void>((resume) => {
        timer.after(20, () => {
          fired.push("a")
          resume(Effect.void)
        })
      })
      cancel()
      assert.isAtLeast(Date.now() - start, 19)
      assert.deepStrictEqual(fired, ["b", "a"])
      const late: Array<string> = []
      timer.after(5, () => late.push("c"))()
      yield* Effect.sleep("20 millis")
      assert.deepStrictEqual(late, [])
    })
  )
})

describe("Timer.watch", () => {
  it.effect(
    "expires once the deadline has passed, following it as it moves later, and not once cancelled",
    () =>
      Effect.gen(function* () {
        const timer = yield* Timer.make
        let deadline = 1000
        const expired: Array<number> = []
        Timer.watch(
          timer,
          () => deadline,
          () => expired.push(timer.now())
        )
        yield* TestClock.adjust("600 millis")
        deadline = 1500
        yield* TestClock.adjust("600 millis")
        assert.deepStrictEqual(expired, [], "the deadline moved to 1.5 s before the first wake")
        yield* TestClock.adjust("300 millis")
        assert.deepStrictEqual(expired, [1500])
        yield* TestClock.adjust("10 seconds")
        assert.deepStrictEqual(expired, [1500], "once")

        const cancelled: Array<number> = []
        const cancel = Timer.watch(
          timer,
          () => timer.now() + 100,
          () => cancelled.push(1)
        )
        cancel()
        yield* TestClock.adjust("1 second")
        assert.deepStrictEqual(cancelled, [])
      })
  )

  it.effect("with `every`, catches a deadline that moved earlier on its next wake", () =>
    Effect.gen(function* () {
      const timer = yield* Timer.make
      let deadline = 10_000
      const expired: Array<number> = []
      Timer.watch(
        timer,
        () => deadline,
        () => expired.push(timer.now()),
        250
      )
      yield* TestClock.adjust("100 millis")
      deadline = 400
      yield* TestClock.adjust("400 millis")
      assert.deepStrictEqual(expired, [400], "woke at 250, saw the deadline at 400 and waited for it")
    })
  )
})
