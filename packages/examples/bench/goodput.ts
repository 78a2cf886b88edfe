/**
 * Goodput under faults: the same seeded script of 20% mixed faults (429s,
 * resets mid-stream, truncations without [DONE], stalls, 5xx) served by the
 * fake server to three clients — the naive try/catch retry loop, the `openai`
 * SDK with `maxRetries: 3`, and `ResilientChat` — counting exact answers,
 * duplicated and lost characters.
 */
import { FakeOpenAiServer, FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Effect from "effect/Effect"
import { account } from "../test/chaos/support.ts"
import * as Clients from "./clients.ts"
import { now, pool } from "./stats.ts"

export interface ClientGoodput {
  readonly exact: number
  readonly exactPercent: number
  readonly duplicatedChars: number
  readonly lostChars: number
  readonly failed: number
  /** Requests that reported success with a wrong text (silent truncation or repetition). */
  readonly silentlyWrong: number
  /** Failed requests by error (`_tag` or constructor name). */
  readonly errors: Record<string, number>
  readonly seconds: number
}

export interface GoodputResult {
  readonly requests: number
  readonly faultRate: number
  readonly byClient: Record<string, ClientGoodput>
}

/** A small seeded PRNG (mulberry32), so every client faces the same script. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const script = (count: number, faultRate: number, seed: number): Array<FakeScenario.Step> => {
  const next = random(seed)
  const chunkAt = () => 1 + Math.floor(next() * 15)
  const faults: Array<() => FakeScenario.Step> = [
    () => FakeScenario.rateLimited(FakeScenario.retryAfterMillis(30)),
    () => FakeScenario.resetAfter(chunkAt()),
    () => FakeScenario.closeAfter(chunkAt()),
    () => FakeScenario.stallAfter(chunkAt()),
    () => FakeScenario.serverError()
  ]
  return Array.from({ length: count }, () =>
    next() < faultRate ? faults[Math.floor(next() * faults.length)]!() : FakeScenario.answer()
  )
}

const errorName = (cause: unknown): string => {
  const tag = (cause as { _tag?: unknown } | null)?._tag
  if (typeof tag === "string") return tag
  return cause instanceof Error ? cause.constructor.name : typeof cause
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Per-attempt deadline for the clients that have no idle timeout (a stall would hang them forever). */
const attemptDeadline = 1500

export type Strategy = (url: string) => {
  readonly run: (print: (text: string) => void) => Promise<void>
  readonly dispose: () => Promise<void>
}

/** The usual advice: try/catch around the stream, retry with exponential backoff and jitter, re-print. */
const naive: Strategy = (url) => {
  const client = Clients.rawSdk(url)
  return {
    run: async (print) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await client.run(print, AbortSignal.timeout(attemptDeadline))
        } catch (error) {
          if (attempt === 3) throw error
          await sleep(10 * 2 ** attempt * (0.8 + Math.random() * 0.4))
        }
      }
    },
    dispose: client.dispose
  }
}

const sdkRetries: Strategy = (url) => {
  const client = Clients.rawSdk(url, { maxRetries: 3 })
  return { run: (print) => client.run(print, AbortSignal.timeout(attemptDeadline)), dispose: client.dispose }
}

const fast = {
  retry: { maxRetries: 3, baseDelay: "10 millis", maxDelay: "200 millis" },
  timeouts: { firstToken: "500 millis", idle: "300 millis", total: "20 seconds" }
} as const

/** The default policy with short delays, its circuit breaker included. */
const resilient: Strategy = (url) => Clients.resilient(url, fast)

/** The same without the circuit breaker. */
const resilientNoBreaker: Strategy = (url) => Clients.resilient(url, { ...fast, circuitBreaker: false })

export const strategies: ReadonlyArray<readonly [string, Strategy]> = [
  ["naive retry loop", naive],
  ["openai SDK maxRetries 3", sdkRetries],
  ["ResilientChat", resilient],
  ["ResilientChat (no breaker)", resilientNoBreaker]
]

const runOne = (
  strategy: Strategy,
  steps: ReadonlyArray<FakeScenario.Step>,
  requests: number,
  concurrency: number
): Promise<ClientGoodput> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* FakeOpenAiServer.make({ steps, keepAlive: "50 millis" })
        return yield* Effect.promise(async () => {
          const client = strategy(server.url)
          const expected = FakeScenario.defaultText
          const start = now()
          const outcomes = await pool(requests, concurrency, async () => {
            let printed = ""
            let error: string | undefined
            try {
              await client.run((text) => {
                printed += text
              })
            } catch (cause) {
              error = errorName(cause)
            }
            return { ok: error === undefined, error, printed, ...account(expected, printed) }
          })
          const seconds = (now() - start) / 1000
          await client.dispose()
          const exact = outcomes.filter((o) => o.ok && o.printed === expected).length
          return {
            exact,
            exactPercent: (100 * exact) / requests,
            duplicatedChars: outcomes.reduce((sum, o) => sum + o.duplicated, 0),
            lostChars: outcomes.reduce((sum, o) => sum + o.lost, 0),
            failed: outcomes.filter((o) => !o.ok).length,
            silentlyWrong: outcomes.filter((o) => o.ok && o.printed !== expected).length,
            errors: outcomes.reduce<Record<string, number>>((counts, o) => {
              if (o.error !== undefined) counts[o.error] = (counts[o.error] ?? 0) + 1
              return counts
            }, {}),
            seconds
          }
        })
      })
    )
  )

export const run = async (options: {
  readonly requests: number
  readonly concurrency: number
  readonly faultRate?: number
  readonly seed?: number
  /** Default: the four `strategies`. */
  readonly strategies?: ReadonlyArray<readonly [string, Strategy]>
}): Promise<GoodputResult> => {
  const faultRate = options.faultRate ?? 0.2
  const steps = script(options.requests * 4, faultRate, options.seed ?? 20240601)
  const byClient: Record<string, ClientGoodput> = {}
  for (const [name, strategy] of options.strategies ?? strategies) {
    byClient[name] = await runOne(strategy, steps, options.requests, options.concurrency)
  }
  return { requests: options.requests, faultRate, byClient }
}
