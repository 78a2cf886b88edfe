import { mkdtempSync, rmSync } from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { writeHeapSnapshot } from "node:v8"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Heap from "../bench/paced/heap.ts"
import * as HeapSources from "../bench/paced/heapSources.ts"

class BenchHeapMarker {
  readonly n: number
  constructor(n: number) {
    this.n = n
  }
}

describe("bench --heap", () => {
  const dir = mkdtempSync(Path.join(Os.tmpdir(), "steadystream-heap-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("tallies a snapshot's nodes by what they are, with their count and bytes", () => {
    const markers = Array.from({ length: 37 }, (_, i) => new BenchHeapMarker(i))
    const named = Array.from({ length: 5 }, () => function benchHeapClosure() {})
    const file = writeHeapSnapshot(Path.join(dir, "test.heapsnapshot"))
    const tally = Heap.tally(file)
    assert.strictEqual(tally.get("BenchHeapMarker")?.count, markers.length)
    assert.isAbove(tally.get("BenchHeapMarker")?.bytes ?? 0, 0)
    assert.strictEqual(tally.get("closure benchHeapClosure")?.count, named.length)
  })

  it("tallies closures and the contexts they hold by the line that made them", () => {
    const counters = Array.from({ length: 7 }, (_, i) => {
      const captured = { i }
      return function benchHeapCounter() {
        return captured.i
      }
    })
    const file = writeHeapSnapshot(Path.join(dir, "sources.heapsnapshot"))
    const found = (prefix: string) => [...HeapSources.bySource(file)].find(([key]) => key.startsWith(prefix))
    const closure = found("closure benchHeapCounter @ examples/test/benchHeap.test.ts:")
    assert.strictEqual(closure?.[1].count, counters.length)
    const context = found("context of benchHeapCounter @ examples/test/benchHeap.test.ts:")
    assert.strictEqual(context?.[1].count, counters.length, "one context per call that made a counter")
    assert.isAbove(context?.[1].bytes ?? 0, 0)
  })
})
