import { assert, describe, it } from "@effect/vitest"
import type { ChatError } from "@steadystream/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as Errors from "../../src/internal/errors.ts"
import * as FakeScenario from "../../src/testing/FakeScenario.ts"
import { apiKey, expectTag, request, run, setup, textOf, words } from "../fixtures.ts"

const millis = (error: ChatError.ChatError): number | undefined => {
  const delay = error.retryAfter
  return delay === undefined ? undefined : Duration.toMillis(delay)
}

/** Runs one stream against a server scripted with `step`, returning the failure. */
const failWith = (step: FakeScenario.Step, options: { readonly text?: string } = {}) =>
  Effect.gen(function* () {
    const { server, model } = yield* setup({ steps: [step], ...options })
    const result = yield* run(model)
    const requests = yield* server.requests
    return { ...result, requests }
  })

describe("error mapping over real HTTP", () => {
  it.effect("429 with retry-after seconds → RateLimited, retryable, one request only", () =>
    Effect.gen(function* () {
      const { error, requests } = yield* failWith(FakeScenario.rateLimited(FakeScenario.retryAfterSeconds(2)))
      const limited = expectTag(error, "RateLimited")
      assert.isTrue(limited.isRetryable)
      assert.strictEqual(millis(limited), 2000)
      assert.strictEqual(limited.status, 429)
      assert.strictEqual(limited.requestId, "req_fake_000001")
      assert.strictEqual(limited.provider, "openai")
      assert.strictEqual(limited.model, "gpt-fake")
      assert.strictEqual(requests.length, 1)
    })
  )

  it.effect("429 with retry-after-ms → RateLimited with that delay", () =>
    Effect.gen(function* () {
      const { error } = yield* failWith(FakeScenario.rateLimited(FakeScenario.retryAfterMillis(1500)))
      assert.strictEqual(millis(expectTag(error, "RateLimited")), 1500)
    })
  )

  it.effect("429 with an HTTP-date retry-after → the delay until that date", () =>
    Effect.gen(function* () {
      const { error } = yield* failWith(FakeScenario.rateLimited(FakeScenario.retryAfterHttpDate(3)))
      const delay = millis(expectTag(error, "RateLimited"))!
      // HTTP dates have whole seconds: the date is 2-3 s away when the client reads it.
      assert.isAbove(delay, 1000)
      assert.isAtMost(delay, 3000)
    })
  )

  it.effect("429 without retry-after → RateLimited without a delay", () =>
    Effect.gen(function* () {
      const { error } = yield* failWith(FakeScenario.rateLimited())
      assert.isUndefined(expectTag(error, "RateLimited").retryAfter)
    })
  )

  it.effect("429 insufficient_quota → QuotaExceeded, not retryable", () =>
    Effect.gen(function* () {
      const { error } = yield* failWith(FakeScenario.insufficientQuota)
      const quota = expectTag(error, "QuotaExceeded")
      assert.isFalse(quota.isRetryable)
      assert.isUndefined(quota.retryAfter)
      assert.strictEqual(quota.status, 429)
    })
  )

  it.effect("a wrong key → 401 AuthenticationFailed; the echoed key is redacted", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({ apiKey: "sk-some-other-key" })
      const { error } = yield* run(model)
      const auth = expectTag(error, "AuthenticationFailed")
      assert.isFalse(auth.isRetryable)
      assert.strictEqual(auth.status, 401)
      assert.include(auth.message, "Incorrect API key provided: [REDACTED]")
    })
  )

  it.effect("400 context_length_exceeded → ContextLengthExceeded", () =>
    Effect.gen(function* () {
      const { error } = yield* failWith(FakeScenario.contextLengthExceeded)
      const context = expectTag(error, "ContextLengthExceeded")
      assert.isFalse(context.isRetryable)
      assert.strictEqual(context.status, 400)
    })
  )

  it.effect("400 content_policy_violation → ContentFiltered", () =>
    Effect.gen(function* () {
      const { error } = yield* failWith(
        FakeScenario.httpError(400, {
          message: "Your request was rejected as a result of our safety system.",
          type: "invalid_request_error",
          code: "content_policy_violation"
        })
      )
      const filtered = expectTag(error, "ContentFiltered")
      assert.strictEqual(filtered.status, 400)
      assert.isFalse(filtered.isRetryable)
    })
  )

  it.effect("400 → InvalidRequest with the offending param as the issue path", () =>
    Effect.gen(function* () {
      const { error } = yield* failWith(
        FakeScenario.httpError(400, {
          message: "Invalid temperature",
          type: "invalid_request_error",
          param: "temperature"
        })
      )
      const invalid = expectTag(error, "InvalidRequest")
      assert.deepStrictEqual(invalid.issues, [{ path: ["temperature"], message: "Invalid temperature" }])
      assert.isFalse(invalid.isRetryable)
    })
  )

  it.effect("every other status maps to its tag", () =>
    Effect.gen(function* () {
      const table: ReadonlyArray<readonly [number, ChatError.Tag, boolean]> = [
        [403, "PermissionDenied", false],
        [404, "NotFound", false],
        [409, "ServerError", true],
        [422, "InvalidRequest", false],
        [500, "ServerError", true],
        [502, "ServerError", true],
        [503, "Overloaded", true],
        [529, "Overloaded", true],
        [418, "InvalidRequest", false]
      ]
      const { model } = yield* setup({
        steps: table.map(([status]) =>
          FakeScenario.httpError(
            status,
            { message: `status ${status}`, type: "x" },
            { headers: { "retry-after": "4" } }
          )
        )
      })
      for (const [status, tag, retryable] of table) {
        const { error } = yield* run(model)
        const mapped = expectTag(error, tag)
        assert.strictEqual(mapped.status, status)
        assert.strictEqual(mapped.isRetryable, retryable, `${status}`)
        if (retryable) assert.strictEqual(millis(mapped), 4000, `${status}`)
      }
    })
  )

  it.effect("500 and 503 from the scenario constructors", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({
        steps: [
          FakeScenario.serverError(),
          FakeScenario.overloaded({ retryAfter: FakeScenario.retryAfterSeconds(30) })
        ]
      })
      const server = expectTag((yield* run(model)).error, "ServerError")
      assert.strictEqual(server.status, 500)
      assert.isUndefined(server.retryAfter)
      const overloaded = expectTag((yield* run(model)).error, "Overloaded")
      assert.strictEqual(millis(overloaded), 30_000)
    })
  )

  it.effect("a server echoing the key in any error message gets it redacted", () =>
    Effect.gen(function* () {
      const { error } = yield* failWith(
        FakeScenario.httpError(500, {
          message: "upstream said: Bearer {apiKey} is odd",
          type: "server_error"
        })
      )
      const failure = expectTag(error, "ServerError")
      assert.include(failure.message, "Bearer [REDACTED] is odd")
    })
  )

  it.effect("reset before headers → ConnectionFailed without status", () =>
    Effect.gen(function* () {
      const { error, events } = yield* failWith(FakeScenario.resetBeforeHeaders)
      const failed = expectTag(error, "ConnectionFailed")
      assert.isTrue(failed.isRetryable)
      assert.isUndefined(failed.status)
      assert.deepStrictEqual(events, [])
    })
  )

  it.effect("reset after 3 chunks → StreamTruncated with exactly the 3 delivered chunks", () =>
    Effect.gen(function* () {
      const { error, events } = yield* failWith(FakeScenario.resetAfter(3))
      const truncated = expectTag(error, "StreamTruncated")
      assert.strictEqual(events.length, 3)
      assert.strictEqual(truncated.delivered, words(3))
      assert.strictEqual(textOf(events), words(3))
      assert.isTrue(truncated.isRetryable)
      assert.strictEqual(truncated.requestId, "req_fake_000001")
    })
  )

  it.effect("a clean close without finish_reason and [DONE] → StreamTruncated, never a quiet end", () =>
    Effect.gen(function* () {
      const { error, events } = yield* failWith(FakeScenario.closeAfter(2))
      const truncated = expectTag(error, "StreamTruncated")
      assert.strictEqual(truncated.delivered, words(2))
      assert.include(truncated.message, "without a finish reason")
      assert.isFalse(events.some((event) => event.type === "finish"))
    })
  )

  it.effect("a finish reason and usage but no [DONE] → StreamTruncated, and no finish event", () =>
    Effect.gen(function* () {
      const { error, events, text: got } = yield* failWith(FakeScenario.answer({ omitDone: true }))
      const truncated = expectTag(error, "StreamTruncated")
      assert.strictEqual(truncated.delivered, got)
      assert.isAbove(got.length, 0)
      assert.include(truncated.message, "without [DONE]")
      assert.isFalse(events.some((event) => event.type === "finish"))
    })
  )

  it.effect("an in-band error frame → the error its type says, with the delivered text before it", () =>
    Effect.gen(function* () {
      const { error, events } = yield* failWith(FakeScenario.errorFrameAfter(4))
      const failure = expectTag(error, "ServerError")
      assert.isUndefined(failure.status)
      assert.strictEqual(failure.requestId, "req_fake_000001")
      assert.strictEqual(textOf(events), words(4))
    })
  )

  it.effect("in-band errors are classified by code: quota, context length, unknown", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({
        steps: [
          FakeScenario.errorFrameAfter(0, {
            message: "no credit",
            type: "insufficient_quota",
            code: "insufficient_quota"
          }),
          FakeScenario.errorFrameAfter(1, {
            message: "too long",
            type: "invalid_request_error",
            code: "context_length_exceeded"
          }),
          FakeScenario.errorFrameAfter(1, { message: "what", type: "mystery" })
        ]
      })
      assert.isFalse(expectTag((yield* run(model)).error, "QuotaExceeded").isRetryable)
      expectTag((yield* run(model)).error, "ContextLengthExceeded")
      assert.isTrue(expectTag((yield* run(model)).error, "MalformedResponse").isRetryable)
    })
  )

  it.effect("a malformed JSON frame → MalformedResponse", () =>
    Effect.gen(function* () {
      const { error, events } = yield* failWith(FakeScenario.malformedAfter(2))
      const malformed = expectTag(error, "MalformedResponse")
      assert.isTrue(malformed.isRetryable)
      assert.strictEqual(textOf(events), words(2))
    })
  )

  it.effect(
    "a chunk of the wrong shape → MalformedResponse naming what is wrong, after the text before it",
    () =>
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [string, string]> = [
          ["null", "the chunk is not an object"],
          ['"text"', "the chunk is not an object"],
          ['{"id":"c","object":"chat.completion.chunk"}', "choices is not an array"],
          ['{"choices":{"0":{"delta":{"content":"x"}}}}', "choices is not an array"],
          ['{"choices":[{"index":0,"delta":"x"}]}', "choices[0].delta is not an object"],
          ['{"choices":[{"index":0,"delta":{"content":42}}]}', "choices[0].delta.content is not a string"],
          [
            '{"choices":[{"index":0,"delta":{"tool_calls":{}}}]}',
            "choices[0].delta.tool_calls is not an array"
          ],
          [
            '{"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"{}"}}]}}]}',
            "choices[0].delta.tool_calls[0].index is not a number"
          ]
        ]
        for (const [data, why] of cases) {
          const { error, events } = yield* failWith(FakeScenario.malformedAfter(2, { data }))
          const malformed = expectTag(error, "MalformedResponse")
          assert.strictEqual(malformed.message, `Malformed response: ${why}`, data)
          assert.isTrue(malformed.isRetryable)
          assert.strictEqual(textOf(events), words(2))
        }
      })
  )

  it.live("a stall with keep-alive comments emits nothing; the consumer's own timeout ends it", () =>
    Effect.gen(function* () {
      const { server, model } = yield* setup({
        steps: [FakeScenario.stallAfter(2, { keepAlive: "15 millis" })]
      })
      const seen: Array<string> = []
      const fiber = yield* model.stream(request).pipe(
        Stream.runForEach((event) => Effect.sync(() => seen.push(event.type))),
        Effect.forkChild
      )
      yield* Effect.sleep("250 millis")
      const [recorded] = yield* server.requests
      assert.isAtLeast(recorded!.keepAlives, 5)
      assert.deepStrictEqual(seen, ["text-delta", "text-delta"])
      assert.isUndefined(fiber.pollUnsafe())
      yield* Fiber.interrupt(fiber)
      yield* server.awaitOpenConnections(0).pipe(Effect.timeout("1 second"))
      assert.isTrue((yield* server.requests)[0]!.clientClosedEarly)
    })
  )

  it.effect("the SDK's header timeout → Timeout (first-token), retryable", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({ steps: [FakeScenario.stallAfter(0)] }, { timeout: "150 millis" })
      const error = yield* Effect.flip(model.complete(request))
      const timeout = expectTag(error, "Timeout")
      assert.strictEqual(timeout.phase, "first-token")
      assert.strictEqual(Duration.toMillis(timeout.timeout), 150)
      assert.isTrue(timeout.isRetryable)
    })
  )
})

describe("Errors (pure)", () => {
  const context: Errors.Context = { model: "m", secret: apiKey, timeout: Duration.seconds(1) }

  it("retryAfter prefers retry-after-ms, then seconds, then an HTTP date", () => {
    const now = Date.parse("2025-01-01T00:00:00Z")
    assert.strictEqual(
      Duration.toMillis(
        Errors.retryAfter(new Headers({ "retry-after-ms": "250", "retry-after": "9" }), now)!
      ),
      250
    )
    assert.strictEqual(Duration.toMillis(Errors.retryAfter(new Headers({ "retry-after": "9" }), now)!), 9000)
    assert.strictEqual(
      Duration.toMillis(
        Errors.retryAfter(new Headers({ "retry-after": "Wed, 01 Jan 2025 00:00:42 GMT" }), now)!
      ),
      42_000
    )
    assert.strictEqual(
      Duration.toMillis(
        Errors.retryAfter(new Headers({ "retry-after": "Tue, 31 Dec 2024 23:00:00 GMT" }), now)!
      ),
      0
    )
    assert.isUndefined(Errors.retryAfter(new Headers({ "retry-after": "soon" }), now))
    assert.isUndefined(Errors.retryAfter(new Headers({ "retry-after-ms": "-5" }), now))
    assert.isUndefined(Errors.retryAfter(undefined, now))
  })

  it("a body read failure mid-stream is StreamTruncated; before the body, ConnectionFailed", () => {
    const terminated = Object.assign(new TypeError("terminated"), {
      cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" })
    })
    const truncated = Errors.fromUnknown(terminated, context, "Hello, wor", 0)
    assert.strictEqual(truncated._tag, "StreamTruncated")
    assert.strictEqual((truncated as ChatError.StreamTruncated).delivered, "Hello, wor")
    assert.include(truncated.message, "other side closed")
    assert.strictEqual(Errors.fromUnknown(terminated, context, undefined, 0)._tag, "ConnectionFailed")
  })

  it("redacts every occurrence of the key", () => {
    assert.strictEqual(Errors.redact(`a ${apiKey} b ${apiKey}`, apiKey), "a [REDACTED] b [REDACTED]")
    const mapped = Errors.fromUnknown(new Error(`boom ${apiKey}`), context, undefined, 0)
    assert.notInclude(mapped.message, apiKey)
  })
})
