import { assert, describe, it } from "@effect/vitest"
import * as FakeScenario from "../../../../src/testing/FakeScenario.ts"
import * as AnswerPlan from "../../../../src/testing/fake/AnswerPlan.ts"
import * as Events from "../../../../src/testing/fake/responses/Events.ts"

const identity: Events.Identity = { id: "resp_1", model: "gpt-fake", background: true, createdAt: 0 }
const body = { messages: [{ role: "user", content: "q" }] }

const planOf = (step: FakeScenario.Answer) =>
  Events.plan(identity, AnswerPlan.plan(body, step, "Hello brave sea"), step)

const types = (planned: ReadonlyArray<Events.Planned>) => planned.map((p) => String(p.event.type))

describe("responses/Events", () => {
  it("plans a text answer in the order the Responses API streams it, ending in one terminal event", () => {
    const planned = planOf(FakeScenario.answer())
    assert.deepStrictEqual(types(planned), [
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed"
    ])
    assert.deepStrictEqual(
      planned.map((p) => (p.content ? "c" : p.terminal ? "t" : "-")).join(""),
      "----ccc---t"
    )
    const completed = planned.at(-1)?.event.response as { status: string; usage: { output_tokens: number } }
    assert.strictEqual(completed.status, "completed")
    assert.strictEqual(completed.usage.output_tokens, 3)
  })

  it("plans function calls as their own items, after the message", () => {
    const call = { id: "call_1", name: "f", arguments: '{"a":"0123456789"}' }
    const planned = planOf(FakeScenario.answer({ text: "", toolCalls: [call] }))
    const added = planned.find((p) => p.event.type === "response.output_item.added")?.event
    assert.deepInclude(added?.item as object, { type: "function_call", call_id: "call_1", name: "f" })
    const args = planned.flatMap((p) =>
      p.event.type === "response.function_call_arguments.delta" ? [String(p.event.delta)] : []
    )
    assert.strictEqual(args.join(""), call.arguments)
    assert.isAbove(args.length, 1)
  })

  it("an ErrorFrame fault fails the generation after that many content events", () => {
    const planned = planOf(FakeScenario.errorFrameAfter(2))
    assert.deepStrictEqual(types(planned).slice(-4), [
      "response.output_text.delta",
      "response.output_text.delta",
      "error",
      "response.failed"
    ])
    assert.isTrue(planned.at(-1)?.terminal)
  })

  it("a length finish is response.incomplete with max_output_tokens", () => {
    const last = planOf(FakeScenario.answer({ finishReason: "length" })).at(-1)?.event
    assert.strictEqual(last?.type, "response.incomplete")
    const response = last?.response as { incomplete_details: unknown } | undefined
    assert.deepStrictEqual(response?.incomplete_details, { reason: "max_output_tokens" })
  })

  it("frames an event with its sequence number, as event: + data: lines", () => {
    assert.strictEqual(
      Events.frame({ type: "response.in_progress" }, 4),
      'event: response.in_progress\ndata: {"type":"response.in_progress","sequence_number":4}\n\n'
    )
  })
})
