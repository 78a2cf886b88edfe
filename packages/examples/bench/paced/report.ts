/**
 * The paced benchmark's tables, targets and chart panels. Every target is a
 * ratio to the raw `openai` SDK measured in the same run.
 */
import type * as Chart from "../chart.ts"
import { names } from "../clients.ts"
import { ratio, type Target, table } from "../report.ts"
import { round } from "../stats.ts"
import type { PacedResult } from "./measure.ts"

/** The targets for ResilientChat, as ratios to the raw SDK. */
export const limits = { cpuPerToken: 1.05, heapPerStream: 1.25, wall: 1.2 } as const

const count = (n: number) => n.toLocaleString("en-US")
const rounds = (n: number) => (n === 1 ? "1 round" : `${n} rounds`)

/** A warning for every client that recovered during a measured run: its numbers include that work. */
const recoveries = (result: PacedResult): Array<string> =>
  [...Object.entries(result.cpu), ...Object.entries(result.open)].flatMap(([name, { runs }]) => {
    const n = runs.reduce((sum, run) => sum + run.recoveries, 0)
    return n === 0
      ? []
      : [`Warning: ${name} recovered ${n} times (retry, fallback or restart) in measured runs.`]
  })

export const tables = (result: PacedResult): string => {
  const { cpu, open } = result.sizes
  const rawCpu = result.cpu[names.raw]!.median
  const rawOpen = result.open[names.raw]!.median
  return [
    `Paced streams: client CPU per token (${cpu.streams} concurrent streams × ${count(cpu.tokens)} tokens, one token per write, a token every ${cpu.gapMillis} ms per stream; server and each client in processes of their own; median of ${rounds(cpu.rounds)} in rotating order)`,
    table(
      ["client", "CPU µs/token", "vs raw SDK", "socket reads/token", "peak RSS MB", "vs raw SDK"],
      Object.entries(result.cpu).map(([name, { median: m }]) => [
        name,
        round(m.cpuMicrosPerToken, 1),
        ratio(m.cpuMicrosPerToken, rawCpu.cpuMicrosPerToken),
        round(m.readsPerToken),
        Math.round(m.peakRssMb),
        ratio(m.peakRssMb, rawCpu.peakRssMb)
      ])
    ),
    "",
    `Paced streams: ${count(open.streams)} concurrent (held after the first token while memory is measured after a GC, then ${open.tokens} tokens each, one per write per server tick; median of ${rounds(open.rounds)}; ResilientChat's deadlines lengthened so the hold cannot trip them)`,
    table(
      [
        "client",
        "wall ms",
        "vs raw SDK",
        "open ms",
        "rest ms",
        "CPU ms",
        "heap KB/stream",
        "vs raw SDK",
        "RSS KB/stream"
      ],
      Object.entries(result.open).map(([name, { median: m }]) => [
        name,
        Math.round(m.wallMillis),
        ratio(m.wallMillis, rawOpen.wallMillis),
        Math.round(m.openMillis),
        Math.round(m.restMillis),
        Math.round(m.cpuMillis),
        round(m.heapPerStreamKb, 1),
        ratio(m.heapPerStreamKb, rawOpen.heapPerStreamKb),
        round(m.rssPerStreamKb, 1)
      ])
    ),
    ...recoveries(result)
  ].join("\n")
}

export const targets = (result: PacedResult): Array<Target> => {
  const cpu = (name: string) => result.cpu[name]!.median
  const open = (name: string) => result.open[name]!.median
  const cpuRatio = cpu(names.resilient).cpuMicrosPerToken / cpu(names.raw).cpuMicrosPerToken
  const heapRatio = open(names.resilient).heapPerStreamKb / open(names.raw).heapPerStreamKb
  const wallRatio = open(names.resilient).wallMillis / open(names.raw).wallMillis
  const streams = count(result.sizes.open.streams)
  return [
    {
      name: `Paced: ResilientChat CPU per token ≤ ${limits.cpuPerToken}× raw SDK`,
      measured: `${round(cpuRatio)}× (${round(cpu(names.resilient).cpuMicrosPerToken, 1)} vs ${round(cpu(names.raw).cpuMicrosPerToken, 1)} µs; adapter alone ${ratio(cpu(names.adapter).cpuMicrosPerToken, cpu(names.raw).cpuMicrosPerToken)}, AI SDK ${ratio(cpu(names.ai).cpuMicrosPerToken, cpu(names.raw).cpuMicrosPerToken)})`,
      met: cpuRatio <= limits.cpuPerToken
    },
    {
      name: `Paced: heap per open stream ≤ ${limits.heapPerStream}× raw SDK (${streams} streams)`,
      measured: `${round(heapRatio)}× (${round(open(names.resilient).heapPerStreamKb, 1)} vs ${round(open(names.raw).heapPerStreamKb, 1)} KB; RSS ${ratio(open(names.resilient).rssPerStreamKb, open(names.raw).rssPerStreamKb)})`,
      met: heapRatio <= limits.heapPerStream
    },
    {
      name: `Paced: wall time for ${streams} concurrent streams ≤ ${limits.wall}× raw SDK`,
      measured: `${round(wallRatio)}× (${round(open(names.resilient).wallMillis / 1000, 1)} vs ${round(open(names.raw).wallMillis / 1000, 1)} s; CPU ${ratio(open(names.resilient).cpuMillis, open(names.raw).cpuMillis)})`,
      met: wallRatio <= limits.wall
    }
  ]
}

export const panels = (result: PacedResult): Array<Chart.Panel> => {
  const { cpu, open } = result.sizes
  const rawCpu = result.cpu[names.raw]!.median
  const rawOpen = result.open[names.raw]!.median
  return [
    {
      title: `Paced: client CPU per token, µs (${cpu.streams} streams × ${count(cpu.tokens)} tokens, lower is better)`,
      bars: Object.entries(result.cpu).map(([label, { median: m }]) => ({
        label,
        value: m.cpuMicrosPerToken,
        note: `${round(m.cpuMicrosPerToken, 1)} µs (${ratio(m.cpuMicrosPerToken, rawCpu.cpuMicrosPerToken)})`,
        highlight: label === names.resilient
      }))
    },
    {
      title: `Paced: wall time for ${count(open.streams)} concurrent streams, s (lower is better)`,
      bars: Object.entries(result.open).map(([label, { median: m }]) => ({
        label,
        value: m.wallMillis / 1000,
        note: `${round(m.wallMillis / 1000, 1)} s (${ratio(m.wallMillis, rawOpen.wallMillis)})`,
        highlight: label === names.resilient
      }))
    },
    {
      title: `Heap per open stream, KB (${count(open.streams)} streams, lower is better)`,
      bars: Object.entries(result.open).map(([label, { median: m }]) => ({
        label,
        value: m.heapPerStreamKb,
        note: `${round(m.heapPerStreamKb, 1)} KB (${ratio(m.heapPerStreamKb, rawOpen.heapPerStreamKb)})`,
        highlight: label === names.resilient
      }))
    }
  ]
}
