import { assert, describe, it } from "@effect/vitest"
import * as Continuation from "../../src/internal/Continuation.ts"
import type { ModelEvent } from "../../src/ModelEvent.ts"

const model = { _tag: "Model", minOverlap: 4 } as const

const step = (result: Continuation.Step | Continuation.Rejected): Continuation.Step => {
  if (Continuation.isRejected(result)) throw new Error(`rejected: ${result.detail}`)
  return result
}

describe("Continuation.read", () => {
  it("passes a token of verified text through as the same event, extending what was delivered", () => {
    const delivered = { ...Continuation.empty, text: "Hello" }
    const reading = Continuation.start(Continuation.empty, model)
    const chunk: ReadonlyArray<ModelEvent> = [{ type: "text-delta", delta: ", world" }]
    const next = step(Continuation.read(reading, delivered, chunk))
    assert.strictEqual<unknown>(next.events[0], chunk[0])
    assert.strictEqual(next.delivered.text, "Hello, world")
    assert.strictEqual(next.reading, reading)
    assert.isUndefined(next.finish)
  })

  it("holds a trailing high surrogate until its pair arrives, and emits nothing for empty text", () => {
    const reading = Continuation.start(Continuation.empty, model)
    const first = step(
      Continuation.read(reading, Continuation.empty, [{ type: "text-delta", delta: "a\ud83d" }])
    )
    assert.deepStrictEqual(first.events, [{ type: "text-delta", delta: "a" }])
    const second = step(
      Continuation.read(first.reading, first.delivered, [{ type: "text-delta", delta: "\ude00b" }])
    )
    assert.deepStrictEqual(second.events, [{ type: "text-delta", delta: "\ud83d\ude00b" }])
    assert.strictEqual(second.delivered.text, "a\ud83d\ude00b")
    const empty = step(
      Continuation.read(second.reading, second.delivered, [{ type: "text-delta", delta: "" }])
    )
    assert.deepStrictEqual(empty.events, [])
  })

  it("verifies a continuation's head before any of it goes out", () => {
    const delivered = { ...Continuation.empty, text: "The sea covers about seventy percent of our planet." }
    const reading = Continuation.start(delivered, model)
    const held = step(Continuation.read(reading, delivered, [{ type: "text-delta", delta: " Its" }]))
    assert.deepStrictEqual(held.events, [], "a short head is held, not passed through")
    assert.strictEqual(held.delivered, delivered)
  })
})
