import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { ChatError } from "../src/index.ts"

const base = { provider: "openai", model: "gpt-test", requestId: "req_1", message: "boom" }

// One instance of every member of the union, with the classification the design requires.
const table: ReadonlyArray<readonly [ChatError.ChatError, boolean]> = [
  [new ChatError.RateLimited({ ...base, status: 429, retryAfter: Duration.seconds(3) }), true],
  [new ChatError.QuotaExceeded({ ...base, status: 429 }), false],
  [new ChatError.ServerError({ ...base, status: 500 }), true],
  [new ChatError.Overloaded({ ...base, status: 503 }), true],
  [new ChatError.ConnectionFailed(base), true],
  [new ChatError.Timeout({ ...base, phase: "first-token", timeout: Duration.seconds(30) }), true],
  [new ChatError.Timeout({ ...base, phase: "idle", timeout: Duration.seconds(30) }), true],
  [new ChatError.Timeout({ ...base, phase: "total", timeout: Duration.seconds(120) }), false],
  [new ChatError.StreamTruncated({ ...base, delivered: "Hello, wor" }), true],
  [new ChatError.MalformedResponse(base), true],
  [new ChatError.AuthenticationFailed({ ...base, status: 401 }), false],
  [new ChatError.PermissionDenied({ ...base, status: 403 }), false],
  [
    new ChatError.InvalidRequest({
      ...base,
      status: 400,
      issues: [{ path: ["messages"], message: "empty" }]
    }),
    false
  ],
  [new ChatError.NotFound({ ...base, status: 404 }), false],
  [new ChatError.ContextLengthExceeded({ ...base, status: 400 }), false],
  [new ChatError.ContentFiltered(base), false],
  [new ChatError.ContentFiltered({ ...base, refusal: "I can't help with that." }), false],
  [new ChatError.ContinuationRejected({ ...base, reason: "restarted", delivered: "The sea" }), true],
  [new ChatError.CircuitOpen({ ...base, retryAfter: Duration.seconds(10) }), false]
]

describe("ChatError", () => {
  it("classifies every tag as retryable or not", () => {
    const seen = new Set(table.map(([error]) => error._tag))
    // every tag of the union appears in the table
    assert.strictEqual(seen.size, ChatError.ChatError.members.length)
    for (const [error, retryable] of table) {
      assert.strictEqual(error.isRetryable, retryable, `${error._tag} isRetryable`)
    }
  })

  it("exposes retryAfter as a Duration where the server gave one", () => {
    const limited = new ChatError.RateLimited({ ...base, retryAfter: Duration.millis(1500) })
    assert.deepStrictEqual(limited.retryAfter, Duration.millis(1500))
    assert.strictEqual(new ChatError.RateLimited(base).retryAfter, undefined)
    assert.strictEqual(new ChatError.ConnectionFailed(base).retryAfter, undefined)
  })

  it("round-trips every member through its schema as plain JSON", () => {
    for (const [error] of table) {
      const encoded = ChatError.encode(error)
      const json = JSON.parse(JSON.stringify(encoded))
      assert.deepStrictEqual(json, encoded, `${error._tag} encodes to plain JSON`)
      const decoded = ChatError.decode(json)
      assert.strictEqual(decoded._tag, error._tag)
      assert.strictEqual(Object.getPrototypeOf(decoded), Object.getPrototypeOf(error))
      assert.strictEqual(decoded.message, error.message)
      assert.strictEqual(decoded.isRetryable, error.isRetryable)
      assert.deepStrictEqual(decoded.retryAfter, error.retryAfter)
    }
  })

  it("encodes retryAfter as milliseconds", () => {
    const encoded = ChatError.encode(new ChatError.RateLimited({ ...base, retryAfter: Duration.seconds(2) }))
    assert.strictEqual((encoded as { retryAfter?: unknown }).retryAfter, 2000)
  })

  it("recognises members of the union and nothing else", () => {
    assert.isTrue(ChatError.isChatError(new ChatError.Overloaded(base)))
    assert.isFalse(ChatError.isChatError(new Error("plain")))
    assert.isFalse(ChatError.isChatError({ _tag: "RateLimited" }))
  })

  it.effect("is yieldable and matched by tag", () =>
    Effect.gen(function* () {
      const program: Effect.Effect<string, ChatError.ChatError> = Effect.fail(
        new ChatError.QuotaExceeded(base)
      )
      const result = yield* program.pipe(
        Effect.catchTag("QuotaExceeded", (e) => Effect.succeed(`quota:${e.provider}`)),
        Effect.catch(() => Effect.succeed("other"))
      )
      assert.strictEqual(result, "quota:openai")
    })
  )
})
