import { assert, describe, it } from "@effect/vitest"
import * as FakeScenario from "../../../src/testing/FakeScenario.ts"
import * as AnswerPlan from "../../../src/testing/fake/AnswerPlan.ts"

const body = (messages: Array<{ role: string; content: string }>) => ({ model: "m", messages })

describe("AnswerPlan", () => {
  it("chunks by word (keeping whitespace) or by code points (never splitting a surrogate pair)", () => {
    assert.deepStrictEqual(AnswerPlan.chunkText("a bc  d"), ["a ", "bc  ", "d"])
    assert.deepStrictEqual(AnswerPlan.chunkText(" lead"), [" ", "lead"])
    assert.deepStrictEqual(AnswerPlan.chunkText("a🚀bc", 2), ["a🚀", "bc"])
    assert.deepStrictEqual(AnswerPlan.chunkText(""), [])
  })

  it("finds the continuation prefix last or before a trailing instruction", () => {
    assert.strictEqual(
      AnswerPlan.continuationPrefix([
        { role: "user", content: "q" },
        { role: "assistant", content: "The qu" }
      ]),
      "The qu"
    )
    assert.strictEqual(
      AnswerPlan.continuationPrefix([
        { role: "assistant", content: "The qu" },
        { role: "user", content: "go on" }
      ]),
      "The qu"
    )
    assert.isUndefined(AnswerPlan.continuationPrefix([{ role: "user", content: "q" }]))
  })

  it("plans the remainder with a scripted overlap, and usage from the chunks", () => {
    const plan = AnswerPlan.plan(
      body([
        { role: "user", content: "two words" },
        { role: "assistant", content: "one two thr" }
      ]),
      FakeScenario.answer({ text: "one two three four", overlap: { words: 1 } }),
      "unused"
    )
    assert.strictEqual(plan.text, "three four")
    assert.strictEqual(plan.continuedFrom, "one two thr")
    assert.deepStrictEqual(plan.usage, { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 })
    assert.strictEqual(plan.finishReason, "stop")
  })

  it("defaults the finish reason to tool_calls for a tool-only answer", () => {
    const plan = AnswerPlan.plan(
      body([{ role: "user", content: "x" }]),
      FakeScenario.answer({ text: "", toolCalls: [{ id: "c", name: "f", arguments: "0123456789" }] }),
      "unused"
    )
    assert.strictEqual(plan.finishReason, "tool_calls")
    assert.strictEqual(plan.deltas.length, 3)
  })
})
