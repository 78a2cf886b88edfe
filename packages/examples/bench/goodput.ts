/**
 * Goodput under faults: the same seeded script of 20% mixed faults (429s,
 * resets mid-stream, truncations without [DONE], stalls, 5xx) served by the
 * fake server to three clients — the naive try/catch retry loop, the `openai`
 * SDK with `maxRetries: 3`, and `ResilientChat` — counting exact answers,
 * duplicated and lost characters.
 *
 * The `"bad-continuations"` mix is served by models that continue badly:
 * breaks mid-stream (often inside a word) and `finish_reason: "error"`, and
 * every answer misbehaves when asked to continue (restarts in other words,
 * replays, repeated cut words and sentences, echoed anchors, preambles).
 * There a restart that happens to begin with exactly what was delivered is
 * a legitimate continuation (it is one coherent answer, the restart's), so
 * an answer is exact when it is one whole answer the model gave.
 */
import { FakeOpenAiServer, FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Effect from "effect/Effect"
import { account } from "../test/chaos/support.ts"
import * as Clients from "./clients.ts"
import { now, pool, round } from "./stats.ts"

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
  readonly mix: Mix
  readonly byClient: Record<string, ClientGoodput>
}

/** Which script: mixed transport faults, or models that continue badly. */
export type Mix = "faults" | "bad-continuations"

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

/** The ways a continuation goes wrong (or right), one picked per answer. */
const continuations: ReadonlyArray<(options: FakeScenario.ContinuationOptions) => FakeScenario.Answer> = [
  (options) => FakeScenario.answer(options),
  FakeScenario.restartsInOtherWords,
  FakeScenario.replaysFromStart,
  FakeScenario.repeatsCutWord,
  FakeScenario.repeatsLastSentence,
  FakeScenario.echoesAnchor,
  FakeScenario.opensWithPreamble,
  (options) => FakeScenario.echoesAnchor({ ...options, preamble: "Sure, resuming from where I stopped: " })
]

/** Models that continue badly: every answer misbehaves on continuations; some break, often inside a word. */
const continuingBadly = (count: number, faultRate: number, seed: number): Array<FakeScenario.Step> => {
  const next = random(seed)
  const chunkAt = () => 1 + Math.floor(next() * 15)
  const faults: Array<(n: number) => FakeScenario.ContinuationOptions> = [
    (n) => ({ fault: { _tag: "Reset", afterChunks: n } }),
    (n) => ({ fault: { _tag: "Close", afterChunks: n } }),
    (n) => ({ fault: { _tag: "FinishError", afterChunks: n } })
  ]
  return Array.from({ length: count }, () => {
    const fault = next() < faultRate ? faults[Math.floor(next() * faults.length)]!(chunkAt()) : {}
    const continuation = continuations[Math.floor(next() * continuations.length)]!
    // Five characters a chunk, so most breaks fall inside a word.
    return continuation({ chunkChars: 5, ...fault })
  })
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
  answers: ReadonlyArray<string>,
  requests: number,
  concurrency: number
): Promise<ClientGoodput> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* FakeOpenAiServer.make({ steps, keepAlive: "50 millis" })
        return yield* Effect.promise(async () => {
          const client = strategy(server.url)
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
            // Measured against the answer it is part of: the scripted one, unless it is another the model gave.
            const reference = answers.find((answer) => answer.startsWith(printed)) ?? answers[0]!
            return {
              ok: error === undefined,
              error,
              printed,
              exact: reference === printed,
              ...account(reference, printed)
            }
          })
          const seconds = (now() - start) / 1000
          await client.dispose()
          const exact = outcomes.filter((o) => o.ok && o.exact).length
          return {
            exact,
            exactPercent: (100 * exact) / requests,
            duplicatedChars: outcomes.reduce((sum, o) => sum + o.duplicated, 0),
            lostChars: outcomes.reduce((sum, o) => sum + o.lost, 0),
            failed: outcomes.filter((o) => !o.ok).length,
            silentlyWrong: outcomes.filter((o) => o.ok && !o.exact).length,
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
  /** Default `"faults"`. */
  readonly mix?: Mix
}): Promise<GoodputResult> => {
  const mix = options.mix ?? "faults"
  const faultRate = options.faultRate ?? 0.2
  const seed = options.seed ?? 20240601
  const steps = (mix === "faults" ? script : continuingBadly)(options.requests * 4, faultRate, seed)
  const answers =
    mix === "faults" ? [FakeScenario.defaultText] : [FakeScenario.defaultText, FakeScenario.restartText]
  const byClient: Record<string, ClientGoodput> = {}
  for (const [name, strategy] of options.strategies ?? strategies) {
    byClient[name] = await runOne(strategy, steps, answers, options.requests, options.concurrency)
  }
  return { requests: options.requests, faultRate, mix, byClient }
}

/** What one mix is, in a title. */
const titles: Record<Mix, (result: GoodputResult) => string> = {
  faults: (r) => `Goodput (${r.requests} requests, ${r.faultRate * 100}% mixed faults, 50 concurrent)`,
  "bad-continuations": (r) =>
    `Goodput with models that continue badly (${r.requests} requests, ${r.faultRate * 100}% breaks, ` +
    "every continuation misbehaving, 50 concurrent; exact = one whole answer the model gave)"
}

/**
 * A mix's report section: its title and one row per client, drawn by the
 * report's own `table`.
 */
export const section = (
  result: GoodputResult,
  table: (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string | number>>) => string
): string =>
  [
    titles[result.mix](result),
    table(
      [
        "client",
        "exact %",
        "duplicated chars",
        "lost chars",
        "silently wrong",
        "failed (typed)",
        "errors",
        "seconds"
      ],
      Object.entries(result.byClient).map(([name, g]) => [
        name,
        round(g.exactPercent, 1),
        g.duplicatedChars,
        g.lostChars,
        g.silentlyWrong,
        g.failed,
        Object.entries(g.errors)
          .map(([tag, n]) => `${tag} ${n}`)
          .join(", ") || "—",
        round(g.seconds, 1)
      ])
    )
  ].join("\n")

/**
 * The targets of the models-that-continue-badly mix: whatever the mix,
 * `ResilientChat` never shows a character twice and never reports success
 * with a wrong text (typed failures are allowed: their text is verified).
 */
export const continuationTargets = (result: GoodputResult) =>
  ["ResilientChat", "ResilientChat (no breaker)"].map((name) => {
    const g = result.byClient[name]!
    return {
      name: `Goodput with models that continue badly: ${name} 0 duplicated chars, never silently wrong`,
      measured: `${g.duplicatedChars} dup, ${g.silentlyWrong} silently wrong (${g.failed} typed failures)`,
      met: g.duplicatedChars === 0 && g.silentlyWrong === 0
    }
  })
