/**
 * The paced benchmark: tokens arrive one per packet from a server in its own
 * process, as from a real model, so the cost per token cannot hide in
 * batching. Each client runs in a process of its own (its CPU and memory are
 * its own), in rotating order, several rounds; medians are reported.
 *
 * - cpu: `streams` concurrent streams of `tokens` tokens, one token per stream
 *   every `gapMillis`: client CPU time per token, socket reads per token (≈ 1
 *   shows the pacing held), peak RSS.
 * - open: `streams` concurrent streams (10,000 in the full run), held after
 *   their first token to measure heap and RSS per open stream, then `tokens`
 *   more, one per stream per server tick: wall time from the first request to
 *   the last answer's end.
 */
import { mkdirSync, rmSync } from "node:fs"
import * as Path from "node:path"
import { median } from "../stats.ts"
import * as Kinds from "./kinds.ts"
import * as Processes from "./processes.ts"

export interface Sizes {
  readonly cpu: {
    readonly streams: number
    readonly tokens: number
    readonly gapMillis: number
    readonly rounds: number
  }
  readonly open: { readonly streams: number; readonly tokens: number; readonly rounds: number }
}

/** The sizes of a full run, or of CI's quick smoke run; `rounds` overrides the rounds of both parts. */
export const sizes = (quick: boolean, rounds?: number): Sizes => {
  // A token every 20 ms per stream (50 tokens/s, a fast model): with 10 ms, a loaded 2-core machine
  // delayed the clients enough that tokens queued up and were read several at a time (socket reads
  // per token 0.6-0.9), which is burst again and flatters the batching clients.
  const cpu = quick
    ? { streams: 20, tokens: 50, gapMillis: 10 }
    : { streams: 100, tokens: 500, gapMillis: 20 }
  const open = quick ? { streams: 500, tokens: 5 } : { streams: 10_000, tokens: 20 }
  return {
    cpu: { ...cpu, rounds: rounds ?? (quick ? 1 : 3) },
    open: { ...open, rounds: rounds ?? (quick ? 1 : 2) }
  }
}

export interface CpuRun {
  /** Retries, fallbacks and restarts during the run (SteadyStream clients): each one is extra work. */
  readonly recoveries: number
  readonly cpuMicrosPerToken: number
  readonly readsPerToken: number
  readonly peakRssMb: number
  readonly wallMillis: number
}

export interface OpenRun {
  readonly recoveries: number
  readonly heapPerStreamKb: number
  readonly rssPerStreamKb: number
  /** From the first request until every stream has its first token. */
  readonly openMillis: number
  /** From the release until every stream has ended. */
  readonly restMillis: number
  /** Both, without the pause for measuring memory in between. */
  readonly wallMillis: number
  /** The client process's CPU time over the same stretches. */
  readonly cpuMillis: number
}

export interface PacedResult {
  readonly sizes: Sizes
  /** By client name, in the order of `Kinds.all`: every round's run, and their medians. */
  readonly cpu: Record<string, { readonly runs: ReadonlyArray<CpuRun>; readonly median: CpuRun }>
  readonly open: Record<string, { readonly runs: ReadonlyArray<OpenRun>; readonly median: OpenRun }>
}

const medians = <A extends object>(runs: ReadonlyArray<A>): A =>
  Object.fromEntries(
    Object.keys(runs[0]!).map((key) => [
      key,
      median(runs.map((run) => (run as Record<string, number>)[key]!))
    ])
  ) as A

/** Runs `once` for every client, `rounds` times, each round in a rotated order. */
const rotate = async <A extends object>(
  rounds: number,
  once: (kind: Kinds.Kind, round: number) => Promise<{ readonly client: string; readonly run: A }>
): Promise<Record<string, { readonly runs: ReadonlyArray<A>; readonly median: A }>> => {
  const byKind = new Map<Kinds.Kind, { client: string; runs: Array<A> }>()
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < Kinds.all.length; i++) {
      const kind = Kinds.all[(i + round) % Kinds.all.length]!
      const { client, run } = await once(kind, round)
      const entry = byKind.get(kind) ?? { client, runs: [] }
      entry.runs.push(run)
      byKind.set(kind, entry)
    }
  }
  return Object.fromEntries(
    Kinds.all.map((kind) => {
      const { client, runs } = byKind.get(kind)!
      return [client, { runs, median: medians<A>(runs) }]
    })
  )
}

export const run = async (
  sizes: Sizes,
  options: { readonly log: (message: string) => void; readonly profileDir?: string }
): Promise<PacedResult> => {
  const { profileDir, log } = options
  if (profileDir !== undefined) {
    rmSync(profileDir, { recursive: true, force: true })
    mkdirSync(profileDir, { recursive: true })
  }
  const server = await Processes.server()
  try {
    const { streams, tokens, gapMillis, rounds } = sizes.cpu
    log(`paced cpu: ${streams} streams × ${tokens} tokens, a token every ${gapMillis} ms`)
    const cpu = await rotate<CpuRun>(rounds, async (kind, round) => {
      const m = await Processes.worker({
        kind,
        mode: "cpu",
        origin: server.origin,
        streams,
        tokens,
        gapMillis,
        ...(profileDir === undefined
          ? {}
          : { profileFile: Path.join(profileDir, `${kind}-${round}.cpuprofile`) })
      })
      const total = streams * tokens
      const run = {
        recoveries: m.recoveries!,
        cpuMicrosPerToken: m.cpuMicros! / total,
        readsPerToken: m.reads! / total,
        peakRssMb: m.peakRssMb!,
        wallMillis: m.wallMillis!
      }
      log(
        `  ${m.client}: ${run.cpuMicrosPerToken.toFixed(2)} µs CPU/token, ${run.readsPerToken.toFixed(2)} reads/token`
      )
      return { client: m.client, run }
    })
    log(`paced open: ${sizes.open.streams} concurrent streams, then ${sizes.open.tokens} tokens each`)
    const open = await rotate<OpenRun>(sizes.open.rounds, async (kind) => {
      let memory = { heapPerStream: 0, rssPerStream: 0 }
      const m = await Processes.worker({
        kind,
        mode: "open",
        origin: server.origin,
        streams: sizes.open.streams,
        tokens: sizes.open.tokens,
        gapMillis: 0,
        onMessage: (message) => {
          if (message.type !== "open") return
          memory = { heapPerStream: message.heapPerStream!, rssPerStream: message.rssPerStream! }
          server.release()
        }
      })
      const run = {
        recoveries: m.recoveries!,
        heapPerStreamKb: memory.heapPerStream / 1024,
        rssPerStreamKb: memory.rssPerStream / 1024,
        openMillis: m.openMillis!,
        restMillis: m.restMillis!,
        wallMillis: m.openMillis! + m.restMillis!,
        cpuMillis: m.cpuMillis!
      }
      log(
        `  ${m.client}: ${Math.round(run.wallMillis)} ms (${Math.round(run.openMillis)} to open), heap ${run.heapPerStreamKb.toFixed(1)} KB/stream`
      )
      return { client: m.client, run }
    })
    return { sizes, cpu, open }
  } finally {
    await server.close()
  }
}
