import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { ChatRequest } from "../src/index.ts"

const valid: ChatRequest.ChatRequest = {
  model: "gpt-test",
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Tell me about the sea" }
  ],
  temperature: 0.2,
  maxTokens: 64
}

const invalidIssues = (input: unknown) =>
  Effect.flip(ChatRequest.validate(input)).pipe(
    Effect.map((error) => ({ error, paths: error.issues.map((i) => i.path.join(".")) }))
  )

describe("ChatRequest", () => {
  it.effect("accepts a valid request unchanged", () =>
    Effect.gen(function* () {
      const request = yield* ChatRequest.validate(valid)
      assert.deepStrictEqual(request, valid)
    })
  )

  it.effect("rejects empty messages with the offending path", () =>
    Effect.gen(function* () {
      const { error, paths } = yield* invalidIssues({ model: "gpt-test", messages: [] })
      assert.strictEqual(error._tag, "InvalidRequest")
      assert.isFalse(error.isRetryable)
      assert.strictEqual(error.model, "gpt-test")
      assert.deepStrictEqual(paths, ["messages"])
    })
  )

  it.effect("rejects an unknown role at its index", () =>
    Effect.gen(function* () {
      const { paths } = yield* invalidIssues({
        model: "m",
        messages: [
          { role: "user", content: "a" },
          { role: "robot", content: "b" }
        ]
      })
      assert.deepStrictEqual(paths, ["messages.1.role"])
    })
  )

  it.effect("rejects negative or fractional maxTokens and out-of-range temperature", () =>
    Effect.gen(function* () {
      const negative = yield* invalidIssues({ ...valid, maxTokens: -5 })
      assert.deepStrictEqual(negative.paths, ["maxTokens"])
      const fractional = yield* invalidIssues({ ...valid, maxTokens: 1.5 })
      assert.deepStrictEqual(fractional.paths, ["maxTokens"])
      const hot = yield* invalidIssues({ ...valid, temperature: 3 })
      assert.deepStrictEqual(hot.paths, ["temperature"])
      assert.include(hot.error.message, "temperature")
    })
  )

  it.effect("rejects a missing model and non-object input as typed errors, never defects", () =>
    Effect.gen(function* () {
      const missing = yield* invalidIssues({ messages: [{ role: "user", content: "hi" }] })
      assert.deepStrictEqual(missing.paths, ["model"])
      assert.strictEqual(missing.error.model, "")
      for (const input of [null, 42, "text", undefined]) {
        const exit = yield* Effect.exit(ChatRequest.validate(input))
        assert.isTrue(Exit.isFailure(exit))
        const failure = yield* Effect.flip(ChatRequest.validate(input))
        assert.strictEqual(failure._tag, "InvalidRequest")
      }
    })
  )

  it("finds the assistant prefix of a continuation request", () => {
    const continuation = {
      ...valid,
      messages: [...valid.messages, { role: "assistant" as const, content: "The sea is" }]
    }
    assert.strictEqual(ChatRequest.assistantPrefix(continuation), "The sea is")
    assert.strictEqual(ChatRequest.assistantPrefix(valid), undefined)
    // A request still in its wire form reads the same.
    const wire = {
      messages: [
        { role: "developer", content: "Go on." },
        { role: "assistant", content: "The" }
      ]
    }
    assert.strictEqual(ChatRequest.assistantPrefix(wire), "The")
    assert.strictEqual(ChatRequest.assistantPrefix({ messages: [] }), undefined)
  })
})
