/**
 * Reads the CPU profiles of the paced CPU runs (`--profile`) and says where
 * each client's time per token goes: by package (self time), then the top
 * functions of ResilientChat, and the SteadyStream functions with the time of
 * everything they call. Sampled main-thread time: GC helper threads and the
 * kernel are not in it (the CPU column of the paced table has them).
 */
import { readdirSync, readFileSync } from "node:fs"
import * as Path from "node:path"
import { names } from "../clients.ts"
import { table } from "../report.ts"
import { round } from "../stats.ts"
import * as Kinds from "./kinds.ts"

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}

interface Profile {
  readonly nodes: ReadonlyArray<{
    readonly id: number
    readonly callFrame: CallFrame
    readonly children?: ReadonlyArray<number>
  }>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const own = /\/packages\/(core|openai-adapter|examples)\/(.*)$/

/** The package a frame belongs to. */
const areaOf = (frame: CallFrame): string => {
  if (frame.url === "")
    return frame.functionName.startsWith("(") ? frame.functionName : "V8 and Node builtins"

  if (frame.url.startsWith("node:")) return "node internals"
  const match = own.exec(frame.url)
  if (match !== null) return match[1] === "examples" ? "bench harness" : `@steadystream/${match[1]}`
  const modules = frame.url.split("/node_modules/").at(-1)
  if (modules === undefined || modules === frame.url) return "other"
  const parts = modules.split("/")
  return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!
}

const labelOf = (frame: CallFrame): string => {
  const match = own.exec(frame.url)
  const file = match !== null ? `${match[1]}/${match[2]}` : (frame.url.split("/node_modules/").at(-1) ?? "")
  return `${frame.functionName || "(anonymous)"} ${file.replace(/^\.pnpm\/[^/]+\/node_modules\//, "")}:${frame.lineNumber + 1}`
}

/** Microseconds of self time by key, and of inclusive time for SteadyStream frames by label. */
interface Tally {
  readonly areas: Map<string, number>
  readonly self: Map<string, number>
  readonly inclusive: Map<string, number>
}

const add = (map: Map<string, number>, key: string, micros: number) =>
  map.set(key, (map.get(key) ?? 0) + micros)

const tallyInto = (tally: Tally, profile: Profile) => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  profile.samples.forEach((id, i) => {
    const micros = profile.timeDeltas[i + 1] ?? 0
    const frame = byId.get(id)!.callFrame
    if (frame.functionName === "(idle)") return
    add(tally.areas, areaOf(frame), micros)
    add(tally.self, labelOf(frame), micros)
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const up = byId.get(at)!.callFrame
      const label = labelOf(up)
      if (own.test(up.url) && !up.url.includes("/examples/") && !seen.has(label)) {
        seen.add(label)
        add(tally.inclusive, label, micros)
      }
    }
  })
}

const top = (map: Map<string, number>, n: number) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n)

/** The report for every profile in `dir`; `tokens` is the number of tokens one profiled run received. */
export const report = (dir: string, tokens: number): string => {
  const files = readdirSync(dir).filter((file) => file.endsWith(".cpuprofile"))
  const tallies = new Map<Kinds.Kind, Tally>()
  const runs = new Map<Kinds.Kind, number>()
  for (const kind of Kinds.all) {
    const tally: Tally = { areas: new Map(), self: new Map(), inclusive: new Map() }
    for (const file of files.filter((f) => f.startsWith(`${kind}-`))) {
      tallyInto(tally, JSON.parse(readFileSync(Path.join(dir, file), "utf8")) as Profile)
      runs.set(kind, (runs.get(kind) ?? 0) + 1)
    }
    tallies.set(kind, tally)
  }
  const perToken = (kind: Kinds.Kind, micros: number) => round(micros / tokens / (runs.get(kind) ?? 1), 2)
  const kinds = Kinds.all.filter((kind) => runs.has(kind))
  const areas = [...new Set(kinds.flatMap((kind) => [...tallies.get(kind)!.areas.keys()]))]
  const total = (kind: Kinds.Kind) => [...tallies.get(kind)!.areas.values()].reduce((a, b) => a + b, 0)
  areas.sort(
    (a, b) => (tallies.get("resilient")?.areas.get(b) ?? 0) - (tallies.get("resilient")?.areas.get(a) ?? 0)
  )
  const resilient = tallies.get("resilient")
  return [
    `CPU profiles (${dir}): sampled main-thread µs per token, self time by package`,
    table(
      ["package", ...kinds.map((kind) => names[kind])],
      [
        ...areas.map((area) => [
          area,
          ...kinds.map((kind) => perToken(kind, tallies.get(kind)!.areas.get(area) ?? 0))
        ]),
        ["**all**", ...kinds.map((kind) => perToken(kind, total(kind)))]
      ]
    ),
    ...(resilient === undefined
      ? []
      : [
          "",
          `${names.resilient}: top functions by self time, µs per token`,
          table(
            ["function", "µs/token"],
            top(resilient.self, 25).map(([label, micros]) => [label, perToken("resilient", micros)])
          ),
          "",
          `${names.resilient}: SteadyStream functions with everything they call, µs per token`,
          table(
            ["function", "µs/token"],
            top(resilient.inclusive, 25).map(([label, micros]) => [label, perToken("resilient", micros)])
          )
        ])
  ].join("\n")
}
