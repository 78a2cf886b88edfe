import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import fc from "fast-check"
import * as ChatError from "../src/ChatError.ts"
import * as ResiliencePolicy from "../src/ResiliencePolicy.ts"
import * as RetrySchedule from "../src/RetrySchedule.ts"

const meta = { provider: "p", model: "m" }

/** An arbitrary ChatError: retryable (with or without a Retry-After, in ms) or not. */
const errorArb = fc.oneof(
  fc.record({
    kind: fc.constant("rate-limited" as const),
    retryAfter: fc.option(fc.integer({ min: 0, max: 200_000 }), { nil: undefined })
  }),
  fc.record({
    kind: fc.constant("server" as const),
    retryAfter: fc.option(fc.integer({ min: 0, max: 90_000 }), { nil: undefined })
  }),
  fc.record({ kind: fc.constant("reset" as const), retryAfter: fc.constant(undefined) }),
  fc.record({
    kind: fc.constantFrom("auth" as const, "quota" as const, "invalid" as const),
    retryAfter: fc.constant(undefined)
  })
)
type ErrorSpec = typeof errorArb extends fc.Arbitrary<infer A> ? A : never

const toError = (spec: ErrorSpec): ChatError.ChatError => {
  const retryAfter = spec.retryAfter === undefined ? {} : { retryAfter: Duration.millis(spec.retryAfter) }
  switch (spec.kind) {
    case "rate-limited":
      return new ChatError.RateLimited({ ...meta, message: "429", ...retryAfter })
    case "server":
      return new ChatError.ServerError({ ...meta, message: "500", ...retryAfter })
    case "reset":
      return new ChatError.ConnectionFailed({ ...meta, message: "reset" })
    case "auth":
      return new ChatError.AuthenticationFailed({ ...meta, message: "401" })
    case "quota":
      return new ChatError.QuotaExceeded({ ...meta, message: "insufficient_quota" })
    case "invalid":
      return new ChatError.InvalidRequest({ ...meta, message: "400", issues: [] })
  }
}

const optionsArb = fc.record({
  maxRetries: fc.integer({ min: 0, max: 6 }),
  baseDelay: fc.integer({ min: 1, max: 2_000 }),
  factor: fc.double({ min: 1, max: 3, noNaN: true }),
  maxDelay: fc.integer({ min: 1, max: 20_000 }),
  jitter: fc.boolean(),
  maxRetryAfter: fc.integer({ min: 0, max: 120_000 })
})

describe("RetrySchedule", () => {
  it("property: delays honour Retry-After, the cap and jitter bounds; attempts ≤ maxRetries; non-retryable never retried", async () => {
    await fc.assert(
      fc.asyncProperty(
        optionsArb,
        fc.array(errorArb, { minLength: 1, maxLength: 10 }),
        async (options, specs) => {
          const resolved = ResiliencePolicy.resolve({
            retry: {
              ...options,
              baseDelay: Duration.millis(options.baseDelay),
              maxDelay: Duration.millis(options.maxDelay),
              maxRetryAfter: Duration.millis(options.maxRetryAfter)
            }
          })
          const decide = await Effect.runPromise(
            RetrySchedule.decider(RetrySchedule.fromPolicy(resolved.retry), resolved.retry.maxRetryAfter)
          )
          let retries = 0
          for (const spec of specs) {
            const error = toError(spec)
            const decision = await Effect.runPromise(decide(error))
            const retryAfter = spec.retryAfter ?? 0
            if (!error.isRetryable) {
              assert.deepStrictEqual(decision, { _tag: "GiveUp", reason: "non-retryable" })
              return
            }
            if (retryAfter > options.maxRetryAfter) {
              assert.deepStrictEqual(decision, { _tag: "GiveUp", reason: "retry-after-too-long" })
              return
            }
            if (retries === options.maxRetries) {
              assert.deepStrictEqual(decision, { _tag: "GiveUp", reason: "exhausted" })
              return
            }
            assert.strictEqual(decision._tag, "Retry")
            if (decision._tag !== "Retry") return
            const delay = Duration.toMillis(decision.delay)
            const raw = options.baseDelay * options.factor ** retries
            const [low, high] = options.jitter ? [0.8 * raw, 1.2 * raw] : [raw, raw]
            const epsilon = 1e-6 * Math.max(1, raw)
            assert.isAtLeast(delay, retryAfter)
            assert.isAtMost(delay, Math.max(options.maxDelay, retryAfter) + epsilon)
            assert.isAtLeast(delay + epsilon, Math.max(Math.min(low, options.maxDelay), retryAfter))
            assert.isAtMost(delay, Math.max(Math.min(high, options.maxDelay), retryAfter) + epsilon)
            retries++
          }
          assert.isAtMost(retries, options.maxRetries)
        }
      ),
      { numRuns: 300 }
    )
  })

  it("property: a user schedule is made honest too", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 0, max: 4 }),
        fc.array(errorArb, { minLength: 1, maxLength: 8 }),
        async (spacing, times, specs) => {
          const schedule = Schedule.spaced(Duration.millis(spacing)).pipe(
            Schedule.setInputType<ChatError.ChatError>(),
            Schedule.upTo({ times })
          )
          const resolved = ResiliencePolicy.resolve({ retry: { schedule } })
          const decide = await Effect.runPromise(
            RetrySchedule.decider(RetrySchedule.fromPolicy(resolved.retry), resolved.retry.maxRetryAfter)
          )
          let retries = 0
          for (const spec of specs) {
            const error = toError(spec)
            const decision = await Effect.runPromise(decide(error))
            if (decision._tag === "GiveUp") {
              const expected = !error.isRetryable
                ? "non-retryable"
                : (spec.retryAfter ?? 0) > 60_000
                  ? "retry-after-too-long"
                  : "exhausted"
              assert.strictEqual(decision.reason, expected)
              if (expected === "exhausted") assert.strictEqual(retries, times)
              return
            }
            assert.isTrue(error.isRetryable)
            assert.strictEqual(Duration.toMillis(decision.delay), Math.max(spacing, spec.retryAfter ?? 0))
            retries++
          }
          assert.isAtMost(retries, times)
        }
      ),
      { numRuns: 200 }
    )
  })

  it("the defaults are bounded: 3 retries of 500 ms × 2ⁿ without jitter", async () => {
    const resolved = ResiliencePolicy.resolve({ retry: { jitter: false } })
    const decide = await Effect.runPromise(
      RetrySchedule.decider(RetrySchedule.fromPolicy(resolved.retry), resolved.retry.maxRetryAfter)
    )
    const error = new ChatError.ServerError({ ...meta, message: "500" })
    const decisions = []
    for (let i = 0; i < 5; i++) decisions.push(await Effect.runPromise(decide(error)))
    assert.deepStrictEqual(
      decisions.map((d) => (d._tag === "Retry" ? Duration.toMillis(d.delay) : d.reason)),
      [500, 1000, 2000, "exhausted", "exhausted"]
    )
  })
})
