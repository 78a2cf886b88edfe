import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import { ErrorRateMonitor } from "../src/index.ts"

const recordAll = (monitor: ErrorRateMonitor.Service, outcomes: ReadonlyArray<boolean>) =>
  Effect.forEach(outcomes, (ok) => monitor.record(ok), { discard: true })

describe("ErrorRateMonitor", () => {
  it.effect("raises an alert when the failure ratio reaches the threshold, and clears it when it falls", () =>
    Effect.gen(function* () {
      const monitor = yield* ErrorRateMonitor.make({ window: "1 minute", threshold: 0.5, minSamples: 4 })
      const alerts = yield* Effect.forkChild(Stream.runCollect(Stream.take(monitor.alerts, 2)))
      yield* Effect.yieldNow

      yield* recordAll(monitor, [true, false, false])
      assert.isFalse((yield* monitor.status).alerting, "below minSamples: no alert yet")
      yield* monitor.record(false) // 3 of 4 failed
      const raised = yield* monitor.status
      assert.deepStrictEqual(raised, { ratio: 0.75, failures: 3, total: 4, alerting: true })

      yield* recordAll(monitor, [true, true, true]) // 3 of 7 failed: below 0.5
      assert.isFalse((yield* monitor.status).alerting)

      const [first, second] = yield* Fiber.join(alerts)
      assert.deepStrictEqual([first?.type, first?.failures, first?.total], ["raised", 3, 4])
      assert.deepStrictEqual([second?.type, second?.failures, second?.total], ["cleared", 3, 7])
    })
  )

  it.effect("forgets outcomes older than the window, which can clear an alert", () =>
    Effect.gen(function* () {
      const monitor = yield* ErrorRateMonitor.make({ window: "10 seconds", threshold: 0.5, minSamples: 2 })
      yield* recordAll(monitor, [false, false])
      assert.isTrue((yield* monitor.status).alerting)
      yield* TestClock.adjust("5 seconds")
      yield* monitor.record(true)
      assert.deepStrictEqual(yield* monitor.status, { ratio: 2 / 3, failures: 2, total: 3, alerting: true })
      yield* TestClock.adjust("5 seconds") // the two failures leave the window
      assert.deepStrictEqual(yield* monitor.status, { ratio: 0, failures: 0, total: 1, alerting: false })
    })
  )

  it.effect("does not alert on a failure ratio just under the threshold", () =>
    Effect.gen(function* () {
      const monitor = yield* ErrorRateMonitor.make({ threshold: 0.2, minSamples: 10 })
      yield* recordAll(monitor, [
        ...Array.from({ length: 9 }, () => true),
        ...Array.from({ length: 2 }, () => false)
      ])
      const status = yield* monitor.status
      assert.strictEqual(status.total, 11)
      assert.isBelow(status.ratio, 0.2)
      assert.isFalse(status.alerting)
    })
  )
})
