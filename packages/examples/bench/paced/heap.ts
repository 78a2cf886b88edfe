/**
 * Where the heap per open stream goes (`--heap`): each client, in a process
 * of its own, holds `streams` streams after their first token and writes a
 * heap snapshot (after a GC); the snapshots are then tallied by what each
 * node is (a constructor, a closure's function name, V8's own kinds), per
 * open stream, and ResilientChat is set against the raw SDK; then its
 * closures and their contexts are set against the adapter's, by the line of
 * code that made them (`heapSources.ts`).
 *
 * A few thousand streams are enough and keep a snapshot small enough to
 * read; with fewer than about 1,000, code compiled while they opened shows
 * up as a per-stream cost.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs"
import * as Path from "node:path"
import { names } from "../clients.ts"
import { table } from "../report.ts"
import * as HeapSources from "./heapSources.ts"
import type * as Kinds from "./kinds.ts"
import * as Processes from "./processes.ts"

const label = (type: string, name: string): string => {
  switch (type) {
    case "string":
    case "concatenated string":
    case "sliced string":
      return "(strings)"
    case "code":
      return "(compiled code)"
    case "closure":
      return `closure ${name || "(anonymous)"}`
    case "object":
      return name
    default:
      return `(${type}) ${name}`.slice(0, 60)
  }
}

/** Every kind of node in a snapshot file, with its self size and count. */
export const tally = (file: string): Map<string, HeapSources.Tally> => {
  const snapshot = JSON.parse(readFileSync(file, "utf8")) as HeapSources.Snapshot
  const fields = snapshot.snapshot.meta.node_fields
  const types = snapshot.snapshot.meta.node_types[0]
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number
  ]
  const { nodes, strings } = snapshot
  const out = new Map<string, HeapSources.Tally>()
  for (let i = 0; i < nodes.length; i += fields.length) {
    const key = label(types[nodes[i + typeAt]!]!, strings[nodes[i + nameAt]!]!)
    const previous = out.get(key)
    const bytes = nodes[i + sizeAt]!
    out.set(key, { bytes: (previous?.bytes ?? 0) + bytes, count: (previous?.count ?? 0) + 1 })
  }
  return out
}

const fileOf = (dir: string, kind: Kinds.Kind) => Path.join(dir, `${kind}.heapsnapshot`)

/**
 * The clients compared: ResilientChat against the raw SDK by kind of node, and against the adapter alone (the
 * same code below it) by source line. The AI SDK's snapshot would be too large to read back.
 */
const kinds: ReadonlyArray<Kinds.Kind> = ["raw", "adapter", "resilient"]

/** Writes a snapshot of `streams` open streams for each compared client into `dir`. */
export const run = async (dir: string, streams: number, log: (message: string) => void): Promise<void> => {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const server = await Processes.server()
  try {
    for (const kind of kinds) {
      log(`heap snapshot: ${names[kind]}, ${streams} open streams`)
      await Processes.worker({
        kind,
        mode: "open",
        origin: server.origin,
        streams,
        tokens: 1,
        gapMillis: 0,
        heapFile: fileOf(dir, kind),
        onMessage: (message) => {
          if (message.type === "open") server.release()
        }
      })
    }
  } finally {
    await server.close()
  }
}

/** `rows` of per-stream differences of two tallies, largest first. */
const differences = (
  base: Map<string, HeapSources.Tally>,
  other: Map<string, HeapSources.Tally>,
  streams: number,
  rows: number
): { readonly total: number; readonly rows: ReadonlyArray<ReadonlyArray<string | number>> } => {
  const perStream = (t: HeapSources.Tally | undefined) => (t?.bytes ?? 0) / streams
  const diffs = [...new Set([...base.keys(), ...other.keys()])]
    .map((key) => ({
      key,
      base: perStream(base.get(key)),
      other: perStream(other.get(key)),
      count: ((other.get(key)?.count ?? 0) - (base.get(key)?.count ?? 0)) / streams
    }))
    .sort((a, b) => b.other - b.base - (a.other - a.base))
  return {
    total: diffs.reduce((sum, d) => sum + d.other - d.base, 0),
    rows: diffs
      .slice(0, rows)
      .map((d) => [
        d.key,
        Math.round(d.base),
        Math.round(d.other),
        Math.round(d.other - d.base),
        d.count.toFixed(1)
      ])
  }
}

/**
 * What ResilientChat holds per open stream beyond the raw SDK, by kind of
 * node; then its closures and their contexts beyond the adapter alone, by the
 * line of code that made them. Largest first.
 */
export const report = (dir: string, streams: number, rows = 25): string => {
  const byKind = differences(tally(fileOf(dir, "raw")), tally(fileOf(dir, "resilient")), streams, rows)
  const byLine = differences(
    HeapSources.bySource(fileOf(dir, "adapter")),
    HeapSources.bySource(fileOf(dir, "resilient")),
    streams,
    rows
  )
  return [
    `Heap snapshots (${dir}), ${streams} open streams each: bytes per open stream, ${names.resilient} beyond ${names.raw} (${Math.round(byKind.total)} B in all)`,
    table(["what", names.raw, names.resilient, "difference", "count difference"], byKind.rows),
    "",
    `Closures and their contexts, ${names.resilient} beyond ${names.adapter}, by the line that made them (${Math.round(byLine.total)} B in all)`,
    table(["made by", names.adapter, names.resilient, "difference", "count difference"], byLine.rows)
  ].join("\n")
}
