import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Schedule from "effect/Schedule"
import * as FallbackStep from "../src/FallbackStep.ts"
import * as ResiliencePolicy from "../src/ResiliencePolicy.ts"

describe("ResiliencePolicy", () => {
  it("fills in bounded defaults", () => {
    const resolved = ResiliencePolicy.resolve()
    assert.strictEqual(resolved.retry._tag, "Backoff")
    if (resolved.retry._tag === "Backoff") {
      assert.strictEqual(resolved.retry.maxRetries, 3)
      assert.strictEqual(Duration.toMillis(resolved.retry.baseDelay), 500)
      assert.strictEqual(resolved.retry.factor, 2)
      assert.strictEqual(Duration.toMillis(resolved.retry.maxDelay), 10_000)
      assert.isTrue(resolved.retry.jitter)
    }
    assert.strictEqual(Duration.toMillis(resolved.retry.maxRetryAfter), 60_000)
    assert.deepStrictEqual(
      [resolved.timeouts.firstToken, resolved.timeouts.idle, resolved.timeouts.total].map(Duration.toMillis),
      [30_000, 30_000, 120_000]
    )
    assert.strictEqual(resolved.midStream, "continue")
    assert.deepStrictEqual(resolved.fallback, [FallbackStep.nonStreaming])
    assert.deepStrictEqual(resolved.circuitBreaker, {
      _tag: "Rate",
      failureRate: 0.5,
      window: 20,
      minimumCalls: 10,
      openFor: Duration.seconds(30)
    })
    assert.strictEqual(resolved.continuation.minOverlap, 4)
  })

  it("clamps numbers instead of accepting unbounded or negative values", () => {
    const resolved = ResiliencePolicy.resolve({
      retry: { maxRetries: -2, factor: 0.5 },
      continuation: { minOverlap: 0 },
      circuitBreaker: { failures: 0, openFor: "1 second" }
    })
    assert.isTrue(
      resolved.retry._tag === "Backoff" && resolved.retry.maxRetries === 0 && resolved.retry.factor === 1
    )
    assert.strictEqual(resolved.continuation.minOverlap, 1)
    assert.deepStrictEqual(resolved.circuitBreaker, {
      _tag: "Consecutive",
      failures: 1,
      openFor: Duration.seconds(1)
    })
  })

  it("accepts a user schedule and turning the breaker off", () => {
    const schedule = Schedule.recurs(2)
    const resolved = ResiliencePolicy.resolve({ retry: { schedule }, circuitBreaker: false })
    assert.isTrue(resolved.retry._tag === "Custom" && resolved.retry.schedule === schedule)
    assert.isFalse(resolved.circuitBreaker)
  })

  it("names fallback steps for events", () => {
    assert.deepStrictEqual(
      [
        FallbackStep.nonStreaming,
        FallbackStep.model("mini"),
        FallbackStep.cached,
        FallbackStep.staticAnswer("sorry")
      ].map(FallbackStep.name),
      ["non-streaming", "model:mini", "cached", "static"]
    )
  })
})
