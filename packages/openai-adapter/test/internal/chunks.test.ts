import { assert, describe, it } from "@effect/vitest"
import type { ModelEvent } from "@steadystream/core"
import type { ChatCompletionChunk } from "openai/resources/chat/completions"
import * as Chunks from "../../src/internal/chunks.ts"

const chunk = (
  delta: ChatCompletionChunk.Choice.Delta,
  finish: ChatCompletionChunk.Choice["finish_reason"] = null,
  usage: ChatCompletionChunk["usage"] = null
): ChatCompletionChunk => ({
  id: "c",
  object: "chat.completion.chunk",
  created: 0,
  model: "m",
  choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  usage
})

describe("Chunks", () => {
  it("maps text, skips empty deltas and tracks the delivered text", () => {
    const state = Chunks.makeState()
    const out: Array<ModelEvent.ModelEvent> = []
    Chunks.mapChunk(chunk({ role: "assistant", content: "" }), state, out)
    Chunks.mapChunk(chunk({ content: "Hel" }), state, out)
    Chunks.mapChunk(chunk({ content: null }), state, out)
    Chunks.mapChunk(chunk({ content: "lo" }), state, out)
    assert.deepStrictEqual(out, [
      { type: "text-delta", delta: "Hel" },
      { type: "text-delta", delta: "lo" }
    ])
    assert.strictEqual(state.delivered, "Hello")
    assert.isUndefined(state.rawReason)
  })

  it("maps tool-call deltas with optional id and name", () => {
    const state = Chunks.makeState()
    const out: Array<ModelEvent.ModelEvent> = []
    Chunks.mapChunk(
      chunk({
        tool_calls: [{ index: 1, id: "call_1", type: "function", function: { name: "f", arguments: "" } }]
      }),
      state,
      out
    )
    Chunks.mapChunk(chunk({ tool_calls: [{ index: 1, function: { arguments: '{"a":' } }] }), state, out)
    assert.deepStrictEqual(out, [
      { type: "tool-call-delta", index: 1, id: "call_1", name: "f", argumentsDelta: "" },
      { type: "tool-call-delta", index: 1, argumentsDelta: '{"a":' }
    ])
    assert.isTrue(state.toolCalls)
  })

  it("records the finish reason and the usage chunk; the finish event carries both", () => {
    const state = Chunks.makeState()
    const out: Array<ModelEvent.ModelEvent> = []
    Chunks.mapChunk(chunk({}, "length"), state, out)
    Chunks.mapChunk(
      { ...chunk({}), choices: [], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } },
      state,
      out
    )
    assert.deepStrictEqual(out, [])
    assert.deepStrictEqual(Chunks.finishEvent(state, state.rawReason!), {
      type: "finish",
      reason: "length",
      rawReason: "length",
      usage: { inputTokens: 3, outputTokens: 5, totalTokens: 8 }
    })
  })

  it("maps reasoning (either name, once) to reasoning-delta events, never into the text", () => {
    const state = Chunks.makeState()
    const out: Array<ModelEvent.ModelEvent> = []
    const wire = (delta: object) => chunk(delta as ChatCompletionChunk.Choice.Delta)
    Chunks.mapChunk(wire({ reasoning_content: "Let me ", content: null }), state, out)
    Chunks.mapChunk(wire({ reasoning: "think." }), state, out)
    // vLLM sent both names with the same text while renaming the field: read once.
    Chunks.mapChunk(wire({ reasoning_content: " Ok.", reasoning: " Ok." }), state, out)
    Chunks.mapChunk(wire({ reasoning_content: "", reasoning: "" }), state, out)
    Chunks.mapChunk(wire({ reasoning_content: "", content: "The" }), state, out)
    assert.deepStrictEqual(out, [
      { type: "reasoning-delta", delta: "Let me " },
      { type: "reasoning-delta", delta: "think." },
      { type: "reasoning-delta", delta: " Ok." },
      { type: "text-delta", delta: "The" }
    ])
    assert.strictEqual(state.delivered, "The")
  })

  it("collects a refusal apart from the text, emitting nothing for it", () => {
    const state = Chunks.makeState()
    const out: Array<ModelEvent.ModelEvent> = []
    Chunks.mapChunk(chunk({ role: "assistant", content: null, refusal: "" }), state, out)
    Chunks.mapChunk(chunk({ refusal: "I can't " }), state, out)
    Chunks.mapChunk(chunk({ refusal: "help with that.", content: null }), state, out)
    Chunks.mapChunk(chunk({ refusal: null }, "stop"), state, out)
    assert.deepStrictEqual(out, [])
    assert.strictEqual(state.refusal, "I can't help with that.")
    assert.strictEqual(state.delivered, "")
    assert.strictEqual(state.rawReason, "stop")
  })

  it("maps every raw finish reason into the closed set", () => {
    assert.deepStrictEqual(
      ["stop", "length", "content_filter", "tool_calls", "function_call", "something_new"].map(
        Chunks.toFinishReason
      ),
      ["stop", "length", "content-filter", "tool-calls", "tool-calls", "other"]
    )
  })
})
