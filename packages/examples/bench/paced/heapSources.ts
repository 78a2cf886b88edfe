/**
 * A heap snapshot's closures and V8 contexts by the source line that made
 * them: each closure by its function's name and location (`file:line`, from
 * the snapshot's `locations`), each context by the first closure that holds
 * it. Set against another client's snapshot, this says which lines of code
 * hold memory for as long as a stream is open.
 */
import { readFileSync } from "node:fs"

/** The parts of a V8 heap snapshot (`.heapsnapshot` JSON) read here. */
export interface Snapshot {
  readonly snapshot: {
    readonly meta: {
      readonly node_fields: ReadonlyArray<string>
      readonly node_types: readonly [ReadonlyArray<string>, ...ReadonlyArray<unknown>]
      readonly edge_fields: ReadonlyArray<string>
      readonly edge_types: readonly [ReadonlyArray<string>, ...ReadonlyArray<unknown>]
      readonly location_fields: ReadonlyArray<string>
    }
  }
  readonly nodes: ReadonlyArray<number>
  readonly edges: ReadonlyArray<number>
  readonly locations: ReadonlyArray<number>
  readonly strings: ReadonlyArray<string>
}

/** Bytes and count of one kind of node, or of what one source line made. */
export interface Tally {
  readonly bytes: number
  readonly count: number
}

/** A script's path from the workspace or its package (`effect/dist/…`, `core/src/…`). */
const shortPath = (url: string) =>
  url.replace(/.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, "").replace(/.*\/packages\//, "")

/** Every closure and context of a snapshot file, by the source line that made it. */
export const bySource = (file: string): Map<string, Tally> => {
  const {
    snapshot: meta,
    nodes,
    edges,
    locations,
    strings
  } = JSON.parse(readFileSync(file, "utf8")) as Snapshot
  const { node_fields, node_types, edge_fields, edge_types, location_fields } = meta.meta
  const nodeSize = node_fields.length
  const edgeSize = edge_fields.length
  const [typeAt, nameAt, sizeAt, edgeCountAt] = ["type", "name", "self_size", "edge_count"].map((f) =>
    node_fields.indexOf(f)
  ) as [number, number, number, number]
  const [edgeTypeAt, edgeNameAt, edgeToAt] = ["type", "name_or_index", "to_node"].map((f) =>
    edge_fields.indexOf(f)
  ) as [number, number, number]
  const count = nodes.length / nodeSize
  const firstEdge = new Uint32Array(count + 1)
  for (let i = 0, e = 0; i < count; i++) {
    firstEdge[i] = e
    e += nodes[i * nodeSize + edgeCountAt]! * edgeSize
  }
  firstEdge[count] = edges.length
  const type = (i: number) => node_types[0][nodes[i * nodeSize + typeAt]!]
  const name = (i: number) => strings[nodes[i * nodeSize + nameAt]!]!
  /** The node an edge named `edgeName` of node `i` goes to. */
  const follow = (i: number, edgeName: string): number | undefined => {
    for (let e = firstEdge[i]!; e < firstEdge[i + 1]!; e += edgeSize) {
      const kind = edge_types[0][edges[e + edgeTypeAt]!]
      if (kind === "element" || kind === "hidden") continue
      if (strings[edges[e + edgeNameAt]!] === edgeName) return edges[e + edgeToAt]! / nodeSize
    }
    return undefined
  }
  const where = new Map<number, readonly [number, number]>()
  const [objectAt, scriptAt, lineAt] = ["object_index", "script_id", "line"].map((f) =>
    location_fields.indexOf(f)
  ) as [number, number, number]
  for (let k = 0; k < locations.length; k += location_fields.length) {
    where.set(locations[k + objectAt]! / nodeSize, [locations[k + scriptAt]!, locations[k + lineAt]!])
  }
  const scripts = new Map<number, string>()
  const locate = (closure: number) => {
    const location = where.get(closure)
    if (location === undefined) return "?"
    const [script, line] = location
    if (!scripts.has(script)) {
      const shared = follow(closure, "shared")
      const source = shared === undefined ? undefined : follow(shared, "script")
      const url = source === undefined ? undefined : follow(source, "name")
      scripts.set(script, url === undefined ? "?" : shortPath(name(url)))
    }
    return `${scripts.get(script)}:${line + 1}`
  }
  const out = new Map<string, Tally>()
  const add = (key: string, bytes: number) => {
    const previous = out.get(key)
    out.set(key, { bytes: (previous?.bytes ?? 0) + bytes, count: (previous?.count ?? 0) + 1 })
  }
  const holder = new Map<number, string>()
  for (let i = 0; i < count; i++) {
    if (type(i) !== "closure") continue
    const made = `${name(i) || "(anonymous)"} @ ${locate(i)}`
    add(`closure ${made}`, nodes[i * nodeSize + sizeAt]!)
    const context = follow(i, "context")
    if (context !== undefined && !holder.has(context)) holder.set(context, made)
  }
  for (const [context, made] of holder) {
    if (name(context) === "system / Context") add(`context of ${made}`, nodes[context * nodeSize + sizeAt]!)
  }
  return out
}
