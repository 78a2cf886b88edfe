import { assert, describe, it } from "@effect/vitest"
import type { ChatRequest } from "@steadystream/core"
import * as Dialect from "../../src/internal/dialect.ts"
import * as Params from "../../src/internal/params.ts"

const question: ChatRequest.ChatRequest = {
  model: "m",
  messages: [{ role: "user", content: "Tell me about the sea" }],
  maxTokens: 50
}
const continuation: ChatRequest.ChatRequest = {
  ...question,
  messages: [...question.messages, { role: "assistant", content: "The sea covers about sev" }]
}

describe("dialect", () => {
  it("sends maxTokens in the configured field only", () => {
    const openAi = Params.toParams(question) as unknown as Record<string, unknown>
    assert.strictEqual(openAi.max_completion_tokens, 50)
    assert.notProperty(openAi, "max_tokens")
    const legacy = Params.toParams(question, {
      ...Dialect.openAi,
      maxTokensField: "max_tokens"
    }) as unknown as Record<string, unknown>
    assert.strictEqual(legacy.max_tokens, 50)
    assert.notProperty(legacy, "max_completion_tokens")
  })

  it("continue-final-message adds both vLLM flags, and only to a request ending with an assistant message", () => {
    const dialect: Dialect.Dialect = { ...Dialect.openAi, continuation: "continue-final-message" }
    const marked = Params.toParams(continuation, dialect)
    assert.isTrue(marked.continue_final_message)
    assert.strictEqual(marked.add_generation_prompt, false)
    assert.deepStrictEqual(marked.messages.at(-1), { role: "assistant", content: "The sea covers about sev" })
    const plain = Params.toParams(question, dialect)
    assert.notProperty(plain, "continue_final_message")
    assert.notProperty(plain, "add_generation_prompt")
  })

  it("prefix marks the last assistant message only; instruction sends the request as it is", () => {
    const prefix = Params.toParams(continuation, { ...Dialect.openAi, continuation: "prefix" })
    assert.deepStrictEqual(prefix.messages, [
      { role: "user", content: "Tell me about the sea" },
      { role: "assistant", content: "The sea covers about sev", prefix: true }
    ] as ReadonlyArray<unknown>)
    assert.notProperty(prefix, "continue_final_message")
    assert.deepStrictEqual(
      Params.toParams(question, { ...Dialect.openAi, continuation: "prefix" }).messages,
      [{ role: "user", content: "Tell me about the sea" }]
    )
    const instruction = Params.toParams(continuation)
    assert.notProperty(instruction.messages.at(-1), "prefix")
    assert.notProperty(instruction, "continue_final_message")
  })
})
