import { assert, describe, it } from "@effect/vitest"
import { ChatError, type StreamEvent } from "@steadystream/core"
import * as Duration from "effect/Duration"
import * as Progress from "../src/Progress.ts"

const base = { provider: "openai", model: "m", message: "x" }

const run = (events: ReadonlyArray<readonly [number, StreamEvent.StreamEvent]>, maxAttempts = 5) => {
  let progress = Progress.start(1000)
  const messages: Array<string> = []
  for (const [at, event] of events) {
    const message = Progress.status(progress, event, maxAttempts)
    if (message !== undefined) messages.push(message)
    progress = Progress.update(progress, event, at)
  }
  return { progress, messages }
}

describe("Progress", () => {
  it("describes a rate limit, a mid-answer drop and a fallback, and sums them up", () => {
    const { progress, messages } = run([
      [
        1000,
        {
          type: "retrying",
          attempt: 1,
          delay: Duration.millis(1200),
          error: new ChatError.RateLimited({ ...base, status: 429 })
        }
      ],
      [2412, { type: "text-delta", delta: "The sea " }],
      [2500, { type: "text-delta", delta: "is ✨ wide" }],
      [
        2600,
        {
          type: "retrying",
          attempt: 2,
          delay: Duration.millis(500),
          error: new ChatError.StreamTruncated({ ...base, delivered: "The sea is ✨ wide" })
        }
      ],
      [
        3200,
        {
          type: "fallback",
          step: "non-streaming",
          error: new ChatError.ServerError({ ...base, status: 500 })
        }
      ],
      [3300, { type: "text-delta", delta: "." }],
      [3400, { type: "finish", reason: "stop" }]
    ])
    assert.deepStrictEqual(messages, [
      "rate limited, retrying in 1.2 s (attempt 2/5)",
      "connection lost after 17 chars, continuing in 500 ms (attempt 3/5)",
      "server error 500, falling back to non-streaming (attempt 4/5)"
    ])
    assert.strictEqual(
      Progress.summary(progress, 3400),
      "4 attempts · 1 fallback · first token 1412 ms · 18 chars · ok in 2.4 s"
    )
  })

  it("sums up a failure by its tag", () => {
    const { progress } = run([])
    assert.strictEqual(
      Progress.summary(progress, 1500, new ChatError.QuotaExceeded(base)),
      "1 attempt · 0 fallbacks · first token - · 0 chars · failed: QuotaExceeded (quota exceeded)"
    )
  })

  it("names the phase of a timeout", () => {
    const timeout = (phase: ChatError.TimeoutPhase) =>
      Progress.reason(new ChatError.Timeout({ ...base, phase, timeout: Duration.seconds(30) }))
    assert.deepStrictEqual(
      [timeout("first-token"), timeout("idle"), timeout("total")],
      ["no first token after 30.0 s", "stalled for 30.0 s", "out of time after 30.0 s"]
    )
  })

  it("explains a failure in one line", () => {
    assert.strictEqual(
      Progress.explain(
        new ChatError.QuotaExceeded({ ...base, message: "You exceeded your quota.\nSee billing." })
      ),
      "quota exceeded: You exceeded your quota. (QuotaExceeded)"
    )
  })

  it("says an open breaker made no call, when it lets calls through again, and counts no attempt", () => {
    const open = new ChatError.CircuitOpen({
      ...base,
      message: "Circuit open for openai:m after repeated failures",
      retryAfter: Duration.millis(29_500)
    })
    const { progress, messages } = run([[1000, { type: "fallback", step: "non-streaming", error: open }]])
    assert.deepStrictEqual(messages, [
      "circuit open (no call was made; the breaker lets calls through again in 29.5 s), " +
        "falling back to non-streaming (attempt 1/5)"
    ])
    assert.strictEqual(
      Progress.summary(progress, 1200, open),
      "0 attempts · 1 fallback · first token - · 0 chars · failed: CircuitOpen (circuit open, no call made)"
    )
    assert.strictEqual(
      Progress.explain(open),
      "circuit open: Circuit open for openai:m after repeated failures " +
        "(no call was made; the breaker lets calls through again in 29.5 s) (CircuitOpen)"
    )
    const probing = new ChatError.CircuitOpen({ ...base, message: "Circuit half-open for openai:m" })
    assert.include(
      Progress.explain(probing),
      "no call was made; the breaker is testing the model, try again shortly"
    )
  })

  it("counts a call the breaker refused after a real attempt as not made", () => {
    const { progress } = run([
      [
        1000,
        {
          type: "fallback",
          step: "non-streaming",
          error: new ChatError.ServerError({ ...base, status: 500 })
        }
      ]
    ])
    assert.strictEqual(progress.attempts, 2)
    assert.match(
      Progress.summary(
        progress,
        1500,
        new ChatError.CircuitOpen({ ...base, retryAfter: Duration.seconds(3) })
      ),
      /^1 attempt · 1 fallback · /
    )
  })

  it("says a call waits out a model's rate-limit cooldown, without counting an attempt", () => {
    const { progress, messages } = run([
      [1000, { type: "cooldown", model: "m", delay: Duration.millis(800) }]
    ])
    assert.deepStrictEqual(messages, [
      "m is rate limited (a 429 here or on another instance), waiting 800 ms"
    ])
    assert.strictEqual(progress.attempts, 1)
  })
})
