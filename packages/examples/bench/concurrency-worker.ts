/**
 * Child process of the concurrency benchmark: runs N streams of one client at
 * once, reports memory once all have received text, then the wall time.
 */
import * as Clients from "./clients.ts"
import { expectedChars } from "./concurrency.ts"
import { now } from "./stats.ts"

const [kind, count, url] = process.argv.slice(2) as [string, string, string]
const streams = Number(count)
const send = (message: object) => process.send?.(message)
const gc = () => (globalThis as { gc?: () => void }).gc?.()

const client = kind === "raw" ? Clients.rawSdk(url) : Clients.resilient(url)
gc()
const baseline = process.memoryUsage()
let started = 0
let peakReport: { heapPerStream: number; rssPerStream: number } | undefined
const start = now()
await Promise.all(
  Array.from({ length: streams }, async () => {
    let chars = 0
    let first = true
    await client.run((text) => {
      chars += text.length
      if (first) {
        first = false
        if (++started === streams) {
          gc()
          const peak = process.memoryUsage()
          peakReport = {
            heapPerStream: (peak.heapUsed - baseline.heapUsed) / streams,
            rssPerStream: (peak.rss - baseline.rss) / streams
          }
          send({ type: "peak", ...peakReport })
        }
      }
    })
    if (chars !== expectedChars) throw new Error(`stream received ${chars} of ${expectedChars} chars`)
  })
)
send({ type: "done", wallMillis: now() - start, ...peakReport })
await client.dispose()
process.disconnect?.()
process.exit(0)
