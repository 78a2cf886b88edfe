/**
 * `pnpm bench [--quick] [--write]`: SteadyStream against the raw `openai` SDK
 * and the Vercel AI SDK on loopback servers. Prints a table; the full run
 * (or `--write`) also writes docs/bench/results.json and docs/bench/chart.svg.
 *
 * Every comparison is measured side by side in the same run; read the ratios,
 * not the absolute numbers (the machine is shared and noisy).
 */
import { mkdirSync, writeFileSync } from "node:fs"
import * as Os from "node:os"
import * as Chart from "./chart.ts"
import * as Clients from "./clients.ts"
import * as Concurrency from "./concurrency.ts"
import * as Fleet from "./fleet.ts"
import * as Goodput from "./goodput.ts"
import * as Recovery from "./recovery.ts"
import * as Resume from "./resume.ts"
import { round } from "./stats.ts"
import * as Throughput from "./throughput.ts"
import * as Ttft from "./ttft.ts"

const quick = process.argv.includes("--quick")
const write = process.argv.includes("--write") || !quick

const sizes = quick
  ? { chunks: 10_000, rounds: 2, ttft: 50, streams: [200], recovery: 20, goodput: 200, resume: 5 }
  : {
      chunks: 100_000,
      rounds: 5,
      ttft: 500,
      streams: [1_000, 10_000],
      recovery: 100,
      goodput: 1_000,
      resume: 30
    }
const fleetSizes = {
  instances: quick ? 3 : 4,
  calls: quick ? 5 : 10,
  windowMillis: 1000,
  trials: quick ? 1 : 5
}

const machine = {
  cpu: Os.cpus()[0]?.model.trim() ?? "unknown",
  cores: Os.cpus().length,
  memoryGb: round(Os.totalmem() / 2 ** 30, 1),
  node: process.version,
  platform: `${process.platform} ${process.arch}`
}
const date = new Date().toISOString()
const startedAt = performance.now()
const log = (message: string) =>
  console.error(`[bench ${((performance.now() - startedAt) / 1000).toFixed(1)}s] ${message}`)

const all = (url: string) => [
  Clients.rawSdk(url),
  Clients.adapter(url),
  Clients.resilient(url),
  Clients.aiSdk(url)
]
const RAW = "openai SDK (raw)"
const RESILIENT = "ResilientChat"
const AI = "AI SDK streamText"

log(`throughput: ${sizes.chunks} chunks × ${sizes.rounds} rounds`)
const throughput = await Throughput.run({ chunks: sizes.chunks, rounds: sizes.rounds }, all)
log(`time to first token: ${sizes.ttft} requests per client`)
const ttft = await Ttft.run({ requests: sizes.ttft }, all)
log(`goodput: ${sizes.goodput} requests, 20% faults`)
const goodput = await Goodput.run({ requests: sizes.goodput, concurrency: 50 })
log(`goodput: ${sizes.goodput} requests, models that continue badly`)
const badly = await Goodput.run({ requests: sizes.goodput, concurrency: 50, mix: "bad-continuations" })
log(`recovery latency: ${sizes.recovery} trials`)
const recovery = await Recovery.run({ trials: sizes.recovery })
log(`true resume vs continuation: ${sizes.resume} trials, then goodput through the Responses API`)
const resume = await Resume.run({ trials: sizes.resume, goodput: sizes.goodput })
log(`concurrency: ${sizes.streams.join(", ")} streams`)
const concurrency = await Concurrency.run(sizes.streams)
log(`fleet: ${fleetSizes.instances} processes × ${fleetSizes.calls} calls; ${fleetSizes.trials} takeovers`)
const fleet = await Fleet.run(fleetSizes)

const tput = throughput.chunksPerSecond
const throughputRatio = tput[RESILIENT]! / tput[RAW]!
const ttftOverhead = {
  p50: ttft.millis[RESILIENT]!.p50 - ttft.millis[RAW]!.p50,
  p99: ttft.millis[RESILIENT]!.p99 - ttft.millis[RAW]!.p99
}
const memory = sizes.streams.map((streams) => {
  const raw = concurrency.find((r) => r.client === "raw" && r.streams === streams)!
  const res = concurrency.find((r) => r.client === "resilient" && r.streams === streams)!
  return {
    streams,
    heapRatio: res.heapPerStreamKb / raw.heapPerStreamKb,
    rssRatio: res.rssPerStreamKb / raw.rssPerStreamKb,
    wallRatio: res.wallMillis / raw.wallMillis
  }
})

const targets = [
  {
    name: "Throughput: ResilientChat ≥ 0.95× raw SDK",
    measured: `${round(throughputRatio)}×`,
    met: throughputRatio >= 0.95
  },
  {
    name: "Throughput: ResilientChat faster than AI SDK",
    measured: `${round(tput[RESILIENT]! / tput[AI]!)}× AI SDK`,
    met: tput[RESILIENT]! > tput[AI]!
  },
  {
    name: "TTFT overhead over raw SDK ≤ 1 ms p50",
    measured: `${round(ttftOverhead.p50, 3)} ms p50, ${round(ttftOverhead.p99, 3)} ms p99`,
    met: ttftOverhead.p50 <= 1
  },
  ...memory.map((m) => ({
    name: `Memory per stream ≤ 2× raw SDK (${m.streams} streams)`,
    measured: `heap ${round(m.heapRatio)}×, RSS ${round(m.rssRatio)}×`,
    met: m.heapRatio <= 2 && m.rssRatio <= 2
  })),
  {
    name: "Recovery latency (minus scheduled delay) ≤ 5 ms",
    measured: `${round(recovery.overheadMillis.p50)} ms p50, ${round(recovery.overheadMillis.p99)} ms p99`,
    met: recovery.overheadMillis.p50 <= 5
  },
  ...Resume.targets(resume),
  ...[RESILIENT, `${RESILIENT} (no breaker)`].flatMap((name) => {
    const g = goodput.byClient[name]!
    return [
      {
        name: `Goodput: ${name} ≥ 99.9% exact, 0 duplicated, 0 lost`,
        measured: `${round(g.exactPercent, 1)}% exact, ${g.duplicatedChars} dup, ${g.lostChars} lost (${g.failed} typed failures)`,
        met: g.exactPercent >= 99.9 && g.duplicatedChars === 0 && g.lostChars === 0
      },
      {
        name: `Goodput: ${name} never reports success with a wrong text`,
        measured: `${g.silentlyWrong} silently wrong`,
        met: g.silentlyWrong === 0
      }
    ]
  }),
  ...Fleet.targets(fleet),
  ...Goodput.continuationTargets(badly)
]

const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string | number>>) =>
  [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.join(" | ")} |`)
  ].join("\n")

const ratio = (a: number, b: number) => `${round(a / b)}×`
const report = [
  `SteadyStream benchmarks (${quick ? "quick" : "full"}) — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${date.slice(0, 10)}`,
  "",
  `Throughput (${throughput.chunks} chunks, median of ${throughput.rounds} rounds)`,
  table(
    ["client", "chunks/s", "vs raw SDK"],
    Object.entries(tput).map(([name, value]) => [name, Math.round(value), ratio(value, tput[RAW]!)])
  ),
  "",
  `Time to first token (${ttft.requests} requests each, loopback)`,
  table(
    ["client", "p50 ms", "p99 ms", "p50 overhead vs raw"],
    Object.entries(ttft.millis).map(([name, v]) => [
      name,
      round(v.p50, 3),
      round(v.p99, 3),
      `${round(v.p50 - ttft.millis[RAW]!.p50, 3)} ms`
    ])
  ),
  "",
  "Concurrency (each client in its own process; memory after GC with all streams open)",
  table(
    ["streams", "client", "wall ms", "heap KB/stream", "RSS KB/stream"],
    concurrency.map((r) => [
      r.streams,
      r.client === "raw" ? RAW : RESILIENT,
      Math.round(r.wallMillis),
      round(r.heapPerStreamKb, 1),
      round(r.rssPerStreamKb, 1)
    ])
  ),
  "",
  `Recovery after a mid-stream reset (${recovery.trials} trials, retry delay ${recovery.retryDelayMillis} ms subtracted)`,
  table(["p50 ms", "p99 ms"], [[round(recovery.overheadMillis.p50), round(recovery.overheadMillis.p99)]]),
  "",
  Goodput.section(goodput, table),
  "",
  Goodput.section(badly, table),
  "",
  ...Resume.report(resume),
  "",
  ...Fleet.report(fleet, table),
  "",
  "Targets",
  table(
    ["target", "measured", "met"],
    targets.map((t) => [t.name, t.measured, t.met ? "yes" : "**no**"])
  )
].join("\n")

console.log(report)

if (write) {
  const dir = new URL("../../../docs/bench/", import.meta.url)
  mkdirSync(dir, { recursive: true })
  const results = {
    date,
    mode: quick ? "quick" : "full",
    machine,
    throughput,
    ttft,
    concurrency,
    recovery,
    goodput,
    resume,
    fleet,
    goodputContinuingBadly: badly,
    targets
  }
  writeFileSync(new URL("results.json", dir), `${JSON.stringify(results, null, 2)}\n`)
  writeFileSync(new URL("results.md", dir), `${report}\n`)
  const svg = Chart.render(
    "SteadyStream benchmarks",
    `${machine.cpu} · ${machine.cores} cores · Node ${machine.node} · ${date.slice(0, 10)} · ${quick ? "quick" : "full"} run`,
    [
      {
        title: `Throughput, chunks/s (${throughput.chunks} chunks, higher is better)`,
        bars: Object.entries(tput).map(([label, value]) => ({
          label,
          value,
          note: `${Math.round(value).toLocaleString("en-US")} (${ratio(value, tput[RAW]!)})`,
          highlight: label === RESILIENT
        }))
      },
      {
        title: "Time to first token p50, ms (lower is better)",
        bars: Object.entries(ttft.millis).map(([label, v]) => ({
          label,
          value: v.p50,
          note: `${round(v.p50, 2)} ms (p99 ${round(v.p99, 2)})`,
          highlight: label === RESILIENT
        }))
      },
      {
        title: "Heap per open stream, KB (lower is better)",
        bars: concurrency.map((r) => ({
          label: `${r.client === "raw" ? RAW : RESILIENT} × ${r.streams}`,
          value: r.heapPerStreamKb,
          note: `${round(r.heapPerStreamKb, 1)} KB (RSS ${round(r.rssPerStreamKb, 1)})`,
          highlight: r.client === "resilient"
        }))
      },
      {
        title: `Goodput: exact answers under ${goodput.faultRate * 100}% faults, % (higher is better)`,
        bars: Object.entries(goodput.byClient).map(([label, g]) => ({
          label,
          value: g.exactPercent,
          note: `${round(g.exactPercent, 1)}% (dup ${g.duplicatedChars}, lost ${g.lostChars})`,
          highlight: label.startsWith(RESILIENT)
        }))
      },
      ...Fleet.panels(fleet)
    ]
  )
  writeFileSync(new URL("chart.svg", dir), svg)
  log("wrote docs/bench/results.json, results.md and chart.svg")
}
log(`done; targets met: ${targets.filter((t) => t.met).length}/${targets.length}`)
