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
