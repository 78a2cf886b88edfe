import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as Sse from "../../src/internal/sse.ts"

const encoder = new TextEncoder()

const decodeIn = (parts: ReadonlyArray<Uint8Array>) => {
  const decoder = Sse.make()
  const out: Array<Sse.Event> = []
  for (const part of parts) decoder.push(part, out)
  decoder.end(out)
  return out
}

const splitAt = (bytes: Uint8Array, cuts: ReadonlyArray<number>) => {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const parts: Array<Uint8Array> = []
  let from = 0
  for (const at of points) {
    parts.push(bytes.subarray(from, at))
    from = at
  }
  parts.push(bytes.subarray(from))
  return parts
}

describe("Sse", () => {
  it("decodes data frames, skips comments, joins multi-line data and reads event names", () => {
    const body =
      ': keep-alive\n\ndata: {"a":1}\n\nevent: error\ndata: line one\ndata:line two\n\ndata: [DONE]\n\n'
    assert.deepStrictEqual(decodeIn([encoder.encode(body)]), [
      { event: undefined, data: '{"a":1}' },
      { event: "error", data: "line one\nline two" },
      { event: undefined, data: "[DONE]" }
    ])
  })

  it("accepts \\r\\n and \\r line endings, and emits an event left open at the end", () => {
    assert.deepStrictEqual(decodeIn([encoder.encode("data: a\r\n\r\ndata: b\r\rdata: c")]), [
      { event: undefined, data: "a" },
      { event: undefined, data: "b" },
      { event: undefined, data: "c" }
    ])
  })

  it("gives the same events however the body is split into reads (inside characters and \\r\\n too)", () => {
    const body = encoder.encode(
      'data: {"t":"héllo ✨ wörld 🌊"}\r\n\r\n: ping\n\ndata: {"t":"ß"}\n\nevent: x\ndata: y\r\rdata: [DONE]\n\n'
    )
    const whole = decodeIn([body])
    assert.strictEqual(whole.length, 4)
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 12 }), (cuts) => {
        assert.deepStrictEqual(decodeIn(splitAt(body, cuts)), whole)
      }),
      { seed: 7, numRuns: 500 }
    )
  })
})
