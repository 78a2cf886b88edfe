import { assert, describe, it } from "@effect/vitest"
import * as ChunkShape from "../../src/internal/chunkShape.ts"

const chunk = (choices: unknown, extra: object = {}) => ({
  id: "c",
  object: "chat.completion.chunk",
  created: 0,
  model: "m",
  choices,
  ...extra
})

describe("chunkShape", () => {
  it("accepts every chunk shape real servers send", () => {
    const valid: ReadonlyArray<unknown> = [
      chunk([{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }]),
      chunk([{ index: 0, delta: { content: "Hi" }, finish_reason: null }], { usage: null }),
      chunk([{ index: 0, delta: { content: null, refusal: null } }]),
      chunk([{ index: 0, delta: {}, finish_reason: "stop" }]),
      chunk([
        {
          index: 0,
          delta: {
            tool_calls: [
              { index: 0, id: "call_1", type: "function", function: { name: "f", arguments: "" } },
              { index: 0, function: { arguments: '{"a":1}' } },
              { index: 1, id: null, function: null }
            ]
          }
        }
      ]),
      // The include_usage chunk, and Azure's first chunk (prompt filter results, no choices).
      chunk([], { usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } }),
      chunk([], { prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }] }),
      // Azure's content-filter annotation: a choice without a delta.
      chunk([{ index: 0, finish_reason: null, content_filter_results: { hate: { filtered: false } } }]),
      chunk([{ index: 0, delta: null, finish_reason: null }]),
      // Reasoning (DeepSeek, vLLM, OpenRouter), refusals, OpenRouter's error chunk and extra fields.
      chunk([{ index: 0, delta: { reasoning_content: "Hm", reasoning: null, content: null } }]),
      chunk([{ index: 0, delta: { reasoning: "Hm", reasoning_details: [{ type: "reasoning.text" }] } }]),
      chunk([{ index: 0, delta: { refusal: "I can't help with that." } }]),
      chunk([{ index: 0, delta: { content: "" }, finish_reason: "error", native_finish_reason: "error" }], {
        provider: "Fake",
        error: { code: 502, message: "Provider disconnected" }
      })
    ]
    for (const value of valid) assert.isUndefined(ChunkShape.problem(value), JSON.stringify(value))
  })

  it("names what is wrong with a chunk the mapper cannot read", () => {
    const invalid: ReadonlyArray<readonly [unknown, string]> = [
      [null, "the chunk is not an object"],
      [[], "the chunk is not an object"],
      [7, "the chunk is not an object"],
      [{ id: "c" }, "choices is not an array"],
      [chunk(null), "choices is not an array"],
      [chunk("x"), "choices is not an array"],
      [chunk([null]), "choices[0] is not an object"],
      [chunk([{ index: 0, delta: {} }, 3]), "choices[1] is not an object"],
      [chunk([{ index: 0, delta: [] }]), "choices[0].delta is not an object"],
      [chunk([{ index: 0, delta: "hi" }]), "choices[0].delta is not an object"],
      [chunk([{ index: 0, delta: { content: 1 } }]), "choices[0].delta.content is not a string"],
      [chunk([{ index: 0, delta: { content: ["a"] } }]), "choices[0].delta.content is not a string"],
      [chunk([{ index: 0, delta: {}, finish_reason: 1 }]), "choices[0].finish_reason is not a string"],
      [chunk([{ index: 0, delta: { tool_calls: "x" } }]), "choices[0].delta.tool_calls is not an array"],
      [chunk([{ index: 0, delta: { tool_calls: [1] } }]), "choices[0].delta.tool_calls[0] is not an object"],
      [
        chunk([{ index: 0, delta: { tool_calls: [{ id: "a" }] } }]),
        "choices[0].delta.tool_calls[0].index is not a number"
      ],
      [
        chunk([{ index: 0, delta: { tool_calls: [{ index: 0, id: 5 }] } }]),
        "choices[0].delta.tool_calls[0].id is not a string"
      ],
      [
        chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: "f" }] } }]),
        "choices[0].delta.tool_calls[0].function is not an object"
      ],
      [
        chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { name: 1 } }] } }]),
        "choices[0].delta.tool_calls[0].function.name is not a string"
      ],
      [
        chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: {} } }] } }]),
        "choices[0].delta.tool_calls[0].function.arguments is not a string"
      ],
      [chunk([{ index: 0, delta: { refusal: 1 } }]), "choices[0].delta.refusal is not a string"],
      [
        chunk([{ index: 0, delta: { reasoning_content: {} } }]),
        "choices[0].delta.reasoning_content is not a string"
      ],
      [chunk([{ index: 0, delta: { reasoning: ["a"] } }]), "choices[0].delta.reasoning is not a string"],
      [chunk([], { usage: 5 }), "usage is not an object"]
    ]
    for (const [value, why] of invalid)
      assert.strictEqual(ChunkShape.problem(value), why, JSON.stringify(value))
  })
})
