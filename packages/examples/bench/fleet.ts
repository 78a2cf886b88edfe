/**
 * The fleet benchmark, against a real `redis-server` started here:
 *
 * - Cooldown: N instance processes × M concurrent calls against a model that
 *   is rate limited for one window (its first request, and every one inside
 *   the window, is answered 429 with the Retry-After left). The instances
 *   start one after another inside the window. Counted at the model: the
 *   requests that land inside the window, with each instance alone
 *   (`ResilientChat.layer`) and sharing the cooldown (`layerRedis`).
 * - Takeover: two `serve` processes; an answer is asked of the first, which
 *   is killed (SIGKILL) mid-answer; the client resumes on the second with
 *   `Last-Event-ID`. Measured: whether the text is exact, and the time from
 *   the kill to the first new character. Without Redis, the second has no
 *   such answer (404).
 */
import { type ChildProcess, fork, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as RedisServer from "../../core/test/RedisServer.ts"
import * as SseClient from "../src/SseClient.ts"
import type { Report } from "./fleet-worker.ts"
import * as Sse from "./sse.ts"
import { median } from "./stats.ts"

export interface CooldownRun {
  readonly mode: "alone" | "shared"
  readonly instances: number
  readonly callsPerInstance: number
  readonly windowMillis: number
  /** Requests the model received inside its rate-limit window, the one that opened it excluded. */
  readonly insideWindow: number
  readonly requests: number
  readonly answered: number
  readonly exact: number
  readonly cooldownEvents: number
}

export interface TakeoverRun {
  readonly store: "redis" | "memory"
  readonly trials: number
  readonly exact: number
  /** Median milliseconds from the SIGKILL to the other instance taking the answer over (lease lapsed). */
  readonly takeoverMillis: number | undefined
  /** Median milliseconds from the SIGKILL to the first new character on the other instance. */
  readonly resumeMillis: number | undefined
  readonly statuses: ReadonlyArray<number>
}

export interface Results {
  readonly cooldown: ReadonlyArray<CooldownRun>
  readonly takeover: ReadonlyArray<TakeoverRun>
}

const pieces = Array.from({ length: 20 }, (_, i) => `w${i} `)
const answerText = pieces.join("")

// The model: rate limited for `windowMillis` from its first request.
const rateLimitedModel = async (windowMillis: number) => {
  let opened: number | undefined
  const arrivals: Array<number> = []
  const body = Sse.answer(pieces)
  const server = await Sse.serve((req, res) => {
    if (!(req.url ?? "").endsWith("/chat/completions")) return res.writeHead(404).end()
    const now = performance.now()
    arrivals.push(now)
    opened ??= now
    const left = Math.ceil(opened + windowMillis - now)
    if (left > 0) {
      res.writeHead(429, { "content-type": "application/json", "retry-after-ms": String(left) })
      return res.end(JSON.stringify({ error: { message: "Rate limit reached", type: "requests" } }))
    }
    res.writeHead(200, Sse.sseHeaders)
    res.end(body)
  })
  return {
    url: server.url,
    close: server.close,
    requests: () => arrivals.length,
    insideWindow: () =>
      opened === undefined
        ? 0
        : arrivals.filter((t) => t > (opened ?? 0) && t < (opened ?? 0) + windowMillis).length
  }
}

const worker = fileURLToPath(new URL("./fleet-worker.ts", import.meta.url))

const cooldownOnce = async (
  mode: "alone" | "shared",
  options: { readonly instances: number; readonly calls: number; readonly windowMillis: number },
  redisUrl: string
): Promise<CooldownRun> => {
  const model = await rateLimitedModel(options.windowMillis)
  const children: Array<ChildProcess> = []
  try {
    const reports = await new Promise<Array<Report>>((resolve, reject) => {
      const reports: Array<Report> = []
      let ready = 0
      for (let i = 0; i < options.instances; i++) {
        const child = fork(worker, [mode, model.url, redisUrl, String(options.calls)], {
          stdio: ["ignore", "inherit", "inherit", "ipc"]
        })
        children.push(child)
        child.on("message", (message: { type: string }) => {
          if (message.type === "ready" && ++ready === options.instances) {
            // Instance i starts i/N of the way into the window: all but the first inside it.
            children.forEach((c, j) => {
              c.send({ offset: Math.round((j * options.windowMillis) / (options.instances + 1)) })
            })
          } else if (message.type === "done") {
            reports.push(message as Report)
            if (reports.length === options.instances) resolve(reports)
          }
        })
        child.on("exit", (code) => {
          if (code !== 0) reject(new Error(`fleet worker exited with ${code}`))
        })
      }
    })
    return {
      mode,
      instances: options.instances,
      callsPerInstance: options.calls,
      windowMillis: options.windowMillis,
      insideWindow: model.insideWindow(),
      requests: model.requests(),
      answered: reports.reduce((n, r) => n + r.answered, 0),
      exact: reports.reduce((n, r) => n + r.texts.filter((t) => t === answerText).length, 0),
      cooldownEvents: reports.reduce((n, r) => n + r.cooldowns, 0)
    }
  } finally {
    for (const child of children) child.kill("SIGKILL")
    await model.close()
  }
}

const serveScript = fileURLToPath(new URL("../src/serve.ts", import.meta.url))

/** A `serve` process on a free port; its URL once it listens. */
const startServe = (args: ReadonlyArray<string>) =>
  new Promise<{ child: ChildProcess; url: string }>((resolve, reject) => {
    const env = { ...process.env }
    delete env.OPENAI_API_KEY
    delete env.OPENAI_BASE_URL
    const child = spawn(process.execPath, [serveScript, "--port", "0", ...args], {
      stdio: ["ignore", "pipe", "ignore"],
      env
    })
    let out = ""
    child.stdout?.setEncoding("utf8").on("data", (data: string) => {
      out += data
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1]
      if (url !== undefined) resolve({ child, url })
    })
    child.on("exit", (code) => reject(new Error(`serve exited with ${code} before listening`)))
  })

const takeoverOnce = async (redisUrl: string | undefined) => {
  const args = ["--scenario", "slow", ...(redisUrl === undefined ? [] : ["--redis", redisUrl])]
  const [a, b] = await Promise.all([startServe(args), startServe(args)])
  try {
    const first = await SseClient.ask(a.url, "Tell me about the sea", SseClient.deltas(8))
    a.child.kill("SIGKILL")
    const killedAt = performance.now()
    const rest = await SseClient.resume(b.url, first.answerId, first.frames.at(-1)?.id)
    const since = (event: string) => {
      const at = rest.frames.findIndex((frame) => frame.event === event)
      return at < 0 ? undefined : (rest.arrivals[at] ?? killedAt) - killedAt
    }
    const text = SseClient.textOf(first.frames) + SseClient.textOf(rest.frames)
    return {
      status: rest.status,
      exact: text === FakeScenario.defaultText,
      takeoverMillis: since("resumed"),
      resumeMillis: since("text-delta")
    }
  } finally {
    a.child.kill("SIGKILL")
    b.child.kill("SIGKILL")
  }
}

const takeover = async (
  store: "redis" | "memory",
  trials: number,
  redisUrl: string
): Promise<TakeoverRun> => {
  const runs = []
  for (let i = 0; i < trials; i++) runs.push(await takeoverOnce(store === "redis" ? redisUrl : undefined))
  const medianOf = (times: ReadonlyArray<number | undefined>) => {
    const known = times.flatMap((t) => (t === undefined ? [] : [t]))
    return known.length === 0 ? undefined : median(known)
  }
  return {
    store,
    trials,
    exact: runs.filter((r) => r.exact).length,
    takeoverMillis: medianOf(runs.map((r) => r.takeoverMillis)),
    resumeMillis: medianOf(runs.map((r) => r.resumeMillis)),
    statuses: runs.map((r) => r.status)
  }
}

export const run = async (options: {
  readonly instances: number
  readonly calls: number
  readonly windowMillis: number
  readonly trials: number
}): Promise<Results> => {
  const scope = Effect.runSync(Scope.make())
  try {
    const redis = await Effect.runPromise(Scope.provide(RedisServer.make, scope))
    const cooldown = [
      await cooldownOnce("alone", options, redis.url),
      await cooldownOnce("shared", options, redis.url)
    ]
    const takeovers = [
      await takeover("redis", options.trials, redis.url),
      await takeover("memory", 1, redis.url)
    ]
    return { cooldown, takeover: takeovers }
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

const ms = (value: number | undefined) => (value === undefined ? "—" : String(Math.round(value)))

/** The lease of a `serve --redis` answer (see `AnswerStore.Options`). */
const leaseMillis = 3000

/** The section of the report: one table per part. */
export const report = (
  results: Results,
  table: (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string | number>>) => string
): Array<string> => {
  const [first] = results.cooldown
  return [
    `Fleet: rate-limit cooldown (${first?.instances} processes × ${first?.callsPerInstance} concurrent calls, the model rate limited for ${first?.windowMillis} ms from its first request; instances start one after another inside the window)`,
    table(
      ["instances", "requests inside the window", "requests in all", "answered", "exact", "cooldown waits"],
      results.cooldown.map((r) => [
        r.mode === "shared" ? "sharing Redis (layerRedis)" : "each alone (layer)",
        r.insideWindow,
        r.requests,
        `${r.answered}/${r.instances * r.callsPerInstance}`,
        r.exact,
        r.cooldownEvents
      ])
    ),
    "",
    `Fleet: two serve instances, the one producing an answer killed (SIGKILL) mid-answer, the client resuming on the other (lease ${leaseMillis} ms, scenario slow)`,
    table(
      [
        "answers kept",
        "trials",
        "text exact",
        "kill → taken over, ms (median)",
        "kill → next character, ms (median)",
        "resume status"
      ],
      results.takeover.map((r) => [
        r.store === "redis" ? "on Redis (--redis)" : "in memory",
        r.trials,
        `${r.exact}/${r.trials}`,
        ms(r.takeoverMillis),
        ms(r.resumeMillis),
        [...new Set(r.statuses)].join(", ")
      ])
    )
  ]
}

export const targets = (results: Results) => {
  const alone = results.cooldown.find((r) => r.mode === "alone")
  const shared = results.cooldown.find((r) => r.mode === "shared")
  const redis = results.takeover.find((r) => r.store === "redis")
  const inFlight = (shared?.callsPerInstance ?? 1) - 1
  return [
    {
      name: "Fleet cooldown: inside the 429 window only the first instance's calls already in flight",
      measured: `${shared?.insideWindow} requests shared vs ${alone?.insideWindow} alone`,
      met: shared !== undefined && shared.insideWindow <= inFlight && shared.answered === shared.exact
    },
    {
      name: "Fleet takeover after SIGKILL: text exact, taken over within lease + 1 s",
      measured: `${redis?.exact}/${redis?.trials} exact, ${ms(redis?.takeoverMillis)} ms`,
      met:
        redis !== undefined &&
        redis.exact === redis.trials &&
        (redis.takeoverMillis ?? Number.POSITIVE_INFINITY) <= leaseMillis + 1000
    }
  ]
}

export const panels = (results: Results) => [
  {
    title: "Fleet: requests inside a 429 window (lower is better)",
    bars: results.cooldown.map((r) => ({
      label: r.mode === "shared" ? "cooldown shared on Redis" : "each instance alone",
      value: r.insideWindow,
      note: `${r.insideWindow} of ${r.requests}`,
      highlight: r.mode === "shared"
    }))
  },
  {
    title: "Fleet: SIGKILL mid-answer → next character on another instance, ms",
    bars: results.takeover
      .filter((r) => r.resumeMillis !== undefined)
      .map((r) => ({
        label: "answers on Redis",
        value: r.resumeMillis ?? 0,
        note: `${ms(r.resumeMillis)} ms (taken over at ${ms(r.takeoverMillis)}), ${r.exact}/${r.trials} exact`,
        highlight: true
      }))
  }
]
