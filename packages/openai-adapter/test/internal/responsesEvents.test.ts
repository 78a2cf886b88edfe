import { assert, describe, it } from "@effect/vitest"
import type { ChatError, ModelEvent } from "@steadystream/core"
import * as Duration from "effect/Duration"
import * as Events from "../../src/internal/responsesEvents.ts"
import type * as Sse from "../../src/internal/sse.ts"

const secret = "sk-responses-secret"
const context = { model: "m", secret, timeout: Duration.seconds(1), requestId: undefined }

const frame = (data: object): Sse.Event => ({
  event: (data as { type?: string }).type,
  data: JSON.stringify(data)
})

const created = (sequence: number) =>
  frame({ type: "response.created", sequence_number: sequence, response: { id: "resp_1", status: "queued" } })
const text = (sequence: number, delta: string) =>
  frame({
    type: "response.output_text.delta",
    sequence_number: sequence,
    item_id: "msg_1",
    output_index: 0,
    content_index: 0,
    delta
  })
const completed = (sequence: number, output: ReadonlyArray<object> = []) =>
  frame({
    type: "response.completed",
    sequence_number: sequence,
    response: {
      id: "resp_1",
      status: "completed",
      output,
      usage: { input_tokens: 3, output_tokens: 5, total_tokens: 8 }
    }
  })

/** Decodes batches of frames with one decoder; returns each batch's events, or the error that ended it. */
const decode = (batches: ReadonlyArray<ReadonlyArray<Sse.Event>>, state = Events.makeState()) => {
  const decoder = Events.decoder(state, context)
  const outs: Array<ReadonlyArray<ModelEvent.ModelEvent>> = []
  let finished = false
  let error: ChatError.ChatError | undefined
  for (const batch of batches) {
    const out: Array<ModelEvent.ModelEvent> = []
    try {
      finished = decoder.decode(batch, out)
    } catch (thrown) {
      error = thrown as ChatError.ChatError
    }
    outs.push(out)
    if (finished || error !== undefined) break
  }
  return { outs, finished, error, state }
}

describe("responsesEvents", () => {
  it("maps text and ends each body read with one checkpoint (id, last sequence)", () => {
    const { outs, finished } = decode([
      [created(0), frame({ type: "response.in_progress", sequence_number: 1, response: { id: "resp_1" } })],
      [text(2, "Hel"), text(3, "lo")],
      [completed(4)]
    ])
    assert.isTrue(finished)
    assert.deepStrictEqual(outs, [
      [{ type: "checkpoint", cursor: { id: "resp_1", sequence: 1 } }],
      [
        { type: "text-delta", delta: "Hel" },
        { type: "text-delta", delta: "lo" },
        { type: "checkpoint", cursor: { id: "resp_1", sequence: 3 } }
      ],
      [
        {
          type: "finish",
          reason: "stop",
          rawReason: "completed",
          usage: { inputTokens: 3, outputTokens: 5, totalTokens: 8 }
        }
      ]
    ])
  })

  it("a resumed stream knows its id from the cursor and checkpoints only when the sequence moves", () => {
    const { outs } = decode([[], [text(8, "sea")]], Events.makeState({ id: "resp_9", sequence: 7 }))
    assert.deepStrictEqual(outs, [
      [],
      [
        { type: "text-delta", delta: "sea" },
        { type: "checkpoint", cursor: { id: "resp_9", sequence: 8 } }
      ]
    ])
  })

  it("maps function calls: id and name once, argument deltas, index = output_index, tool-calls finish", () => {
    const { outs } = decode([
      [
        created(0),
        frame({
          type: "response.output_item.added",
          sequence_number: 1,
          output_index: 1,
          item: { id: "fc_1", type: "function_call", call_id: "call_1", name: "lookup", arguments: "" }
        }),
        frame({
          type: "response.function_call_arguments.delta",
          sequence_number: 2,
          item_id: "fc_1",
          output_index: 1,
          delta: '{"q":1}'
        }),
        completed(3)
      ]
    ])
    const events = outs[0] ?? []
    assert.deepStrictEqual(events.slice(0, 2), [
      { type: "tool-call-delta", index: 1, id: "call_1", name: "lookup", argumentsDelta: "" },
      { type: "tool-call-delta", index: 1, argumentsDelta: '{"q":1}' }
    ])
    assert.strictEqual(events[2]?.type === "finish" ? events[2].reason : undefined, "tool-calls")
  })

  it("a resumed stream that missed the function call still finishes with tool-calls (from the output)", () => {
    const { outs } = decode(
      [[completed(9, [{ type: "function_call", call_id: "call_1", name: "f", arguments: "{}" }])]],
      Events.makeState({ id: "resp_1", sequence: 8 })
    )
    const finish = outs[0]?.[0]
    assert.strictEqual(finish?.type === "finish" ? finish.reason : undefined, "tool-calls")
  })

  it("maps reasoning summaries to reasoning-delta, never to text", () => {
    const { outs } = decode([
      [
        created(0),
        frame({
          type: "response.reasoning_summary_text.delta",
          sequence_number: 1,
          item_id: "rs_1",
          output_index: 0,
          summary_index: 0,
          delta: "Thinking"
        })
      ]
    ])
    assert.deepStrictEqual(outs[0]?.[0], { type: "reasoning-delta", delta: "Thinking" })
  })

  it("maps response.incomplete: max_output_tokens is a length finish; a content filter before any text fails", () => {
    const incomplete = (reason: string) =>
      frame({
        type: "response.incomplete",
        sequence_number: 3,
        response: { id: "resp_1", status: "incomplete", incomplete_details: { reason } }
      })
    const length = decode([[text(2, "Some"), incomplete("max_output_tokens")]])
    assert.deepStrictEqual(length.outs[0]?.at(-1), {
      type: "finish",
      reason: "length",
      rawReason: "max_output_tokens"
    })
    const filtered = decode([[incomplete("content_filter")]])
    assert.strictEqual(filtered.error?._tag, "ContentFiltered")
  })

  it("maps in-band errors in both shapes, and response.failed, to typed errors", () => {
    const flat = decode([
      [frame({ type: "error", sequence_number: 2, code: "server_error", message: "boom", param: null })]
    ])
    assert.strictEqual(flat.error?._tag, "ServerError")
    const nested = decode([
      [
        frame({
          type: "error",
          sequence_number: 2,
          error: { type: "rate_limit_exceeded", code: "rate_limit_exceeded", message: "slow", param: null }
        })
      ]
    ])
    assert.strictEqual(nested.error?._tag, "RateLimited")
    const failed = decode([
      [
        frame({
          type: "response.failed",
          sequence_number: 5,
          response: {
            id: "resp_1",
            status: "failed",
            error: { code: "server_error", message: "The model failed" }
          }
        })
      ]
    ])
    assert.strictEqual(failed.error?._tag, "ServerError")
    assert.include(failed.error?.message ?? "", "The model failed")
  })

  it("a refusal fails with ContentFiltered carrying the model's words", () => {
    const { error } = decode([
      [
        created(0),
        frame({ type: "response.refusal.delta", sequence_number: 1, delta: "I can't" }),
        frame({ type: "response.refusal.done", sequence_number: 2, refusal: "I can't help with that." })
      ]
    ])
    assert.strictEqual(error?._tag, "ContentFiltered")
    if (error?._tag === "ContentFiltered") assert.strictEqual(error.refusal, "I can't help with that.")
  })

  it("an event of the wrong shape is MalformedResponse", () => {
    assert.strictEqual(
      decode([[frame({ type: "response.output_text.delta", delta: 42 })]]).error?._tag,
      "MalformedResponse"
    )
    assert.strictEqual(decode([[frame({ no: "type" })]]).error?._tag, "MalformedResponse")
    assert.strictEqual(decode([[frame({ type: "response.created" })]]).error?._tag, "MalformedResponse")
  })

  it("events before a failing event go out first, with a checkpoint that covers only them", () => {
    const { outs, error } = decode([
      [
        created(0),
        text(1, "Hi"),
        frame({ type: "error", sequence_number: 2, code: "server_error", message: "x" })
      ]
    ])
    assert.strictEqual(error?._tag, "ServerError")
    assert.deepStrictEqual(outs[0], [
      { type: "text-delta", delta: "Hi" },
      { type: "checkpoint", cursor: { id: "resp_1", sequence: 1 } }
    ])
  })

  it("skips events it does not know, but still moves the sequence", () => {
    const { outs } = decode([
      [
        created(0),
        frame({ type: "response.output_text.annotation.added", sequence_number: 1, annotation: {} })
      ]
    ])
    assert.deepStrictEqual(outs[0], [{ type: "checkpoint", cursor: { id: "resp_1", sequence: 1 } }])
  })
})
