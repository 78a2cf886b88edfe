/**
 * Child process of the paced benchmark: one client, many streams at once, so
 * that the whole process's CPU and memory are this client's.
 *
 * argv: `<kind> <cpu|open> <origin> <streams> <tokens> <gapMillis> <profile file|-> <heap file|->`.
 * - `cpu`: after a warm-up, runs the streams to their end and reports the
 *   process's CPU time (user + system, every thread), wall time, socket reads
 *   and peak RSS; with a profile file, profiles those streams into it.
 * - `open`: the server holds every stream after its first token; once all
 *   have it, reports heap and RSS per open stream (after a GC) as `open`,
 *   and when the parent has released them and all have ended, the wall and
 *   CPU time without that measuring pause. With a heap file, a heap snapshot
 *   is written there before `open` is reported.
 */
import { writeHeapSnapshot } from "node:v8"
import type { Client } from "../clients.ts"
import { now } from "../stats.ts"
import * as Kinds from "./kinds.ts"
import * as Profiler from "./profiler.ts"
import * as Reads from "./reads.ts"
import * as Wire from "./wire.ts"

const [kind = "", mode, origin = "", ...rest] = process.argv.slice(2)
const [streams = 0, tokens = 0, gapMillis = 0] = rest.slice(0, 3).map(Number)
const fileArg = (arg: string | undefined) => (arg === undefined || arg === "-" ? undefined : arg)
const profileFile = fileArg(rest[3])
const heapFile = fileArg(rest[4])
if (!Kinds.isKind(kind) || (mode !== "cpu" && mode !== "open"))
  throw new Error(`bad arguments: ${kind} ${mode}`)
const make = Kinds.kinds[kind]
const send = (message: object) => process.send?.(message)
const gc = () => (globalThis as { gc?: () => void }).gc?.()

/** Runs `count` streams at once; `onFirst` is called when a stream receives its first text. */
const runAll = (client: Client, count: number, tokensEach: number, onFirst: () => void = () => {}) => {
  const expected = Wire.expectedChars(tokensEach)
  return Promise.all(
    Array.from({ length: count }, async () => {
      let chars = 0
      await client.run((text) => {
        if (chars === 0) onFirst()
        chars += text.length
      })
      if (chars !== expected)
        throw new Error(`${client.name}: a stream received ${chars} of ${expected} chars`)
    })
  )
}

// Warm-up on a client of its own (pacing is part of the base URL): the JIT and the modules, not the
// measured client's state.
const warmTokens = 30
const warm = make(Wire.baseUrl(origin, { tokens: warmTokens, gapMillis, hold: false }))
await runAll(warm, Math.min(streams, 50), warmTokens)
await warm.dispose()

const client = make(Wire.baseUrl(origin, { tokens, gapMillis, hold: mode === "open" }))
gc()

if (mode === "cpu") {
  const reads = Reads.reads()
  const cpu = process.cpuUsage()
  const start = now()
  await Profiler.profile(profileFile, () => runAll(client, streams, tokens))
  const used = process.cpuUsage(cpu)
  send({
    type: "cpu",
    client: client.name,
    cpuMicros: used.user + used.system,
    wallMillis: now() - start,
    reads: Reads.reads() - reads,
    recoveries: client.recoveries?.() ?? 0,
    peakRssMb: process.resourceUsage().maxRSS / 1024
  })
} else {
  const baseline = process.memoryUsage()
  let opened = 0
  let openMillis = 0
  let openCpu = process.cpuUsage()
  let releasedAt = 0
  let releasedCpu = openCpu
  const start = now()
  const startCpu = openCpu
  await runAll(client, streams, tokens, () => {
    if (++opened < streams) return
    openMillis = now() - start
    openCpu = process.cpuUsage(startCpu)
    gc()
    const peak = process.memoryUsage()
    if (heapFile !== undefined) writeHeapSnapshot(heapFile)
    send({
      type: "open",
      heapPerStream: (peak.heapUsed - baseline.heapUsed) / streams,
      rssPerStream: (peak.rss - baseline.rss) / streams
    })
    releasedAt = now()
    releasedCpu = process.cpuUsage()
  })
  const restCpu = process.cpuUsage(releasedCpu)
  send({
    type: "done",
    client: client.name,
    openMillis,
    restMillis: now() - releasedAt,
    recoveries: client.recoveries?.() ?? 0,
    cpuMillis: (openCpu.user + openCpu.system + restCpu.user + restCpu.system) / 1000
  })
}
await client.dispose()
process.disconnect?.()
process.exit(0)
