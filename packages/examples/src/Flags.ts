/**
 * The command-line flags the demo and the server share: where answers come
 * from (key, base URL, model, fake scenario) and the resilience policy knobs.
 */
import type { ResiliencePolicy } from "@steadystream/core"
import { FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Config from "effect/Config"
import { Flag } from "effect/cli"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as ModelSource from "./ModelSource.ts"

const units: Readonly<Record<string, (n: number) => Duration.Duration>> = {
  ms: Duration.millis,
  s: Duration.seconds,
  m: Duration.minutes
}

/** Parses `250ms`, `1.5s`, `2m`, or anything `Duration.fromInput` reads (`"500 millis"`). */
export const parseDuration = (input: string): Option.Option<Duration.Duration> => {
  const short = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)\s*$/.exec(input)
  if (short !== null) {
    const make = units[short[2] ?? ""]
    return make === undefined ? Option.none() : Option.some(make(Number(short[1])))
  }
  return Duration.fromInput(input as Duration.Input)
}

/** The durations a flag accepts, both ends included. */
interface Range {
  readonly min: Duration.Duration
  readonly max: Duration.Duration
}

/** "more than 0 and at most 1m", or "from 0 to 10s" when zero is allowed. */
const describeRange = (range: Range): string =>
  Duration.isZero(range.min)
    ? `from 0 to ${Duration.format(range.max)}`
    : `of at least ${Duration.format(range.min)} and at most ${Duration.format(range.max)}`

/** A duration in `range`, or none (unreadable, negative, or out of range). */
const parseDurationIn = (input: string, range: Range): Option.Option<Duration.Duration> =>
  Option.filter(
    parseDuration(input),
    (duration) =>
      Duration.isGreaterThanOrEqualTo(duration, range.min) &&
      Duration.isLessThanOrEqualTo(duration, range.max)
  )

const duration = (name: string, range: Range) =>
  Flag.String(name).pipe(
    Flag.withMetavar("duration"),
    Flag.filterMap(
      (input) => parseDurationIn(input, range),
      () => `Expected a duration ${describeRange(range)}, like 500ms, 1.5s or 2m`
    )
  )

/** An integer flag within `min`..`max`, the complaint naming what it counts. */
const count = (name: string, min: number, max: number, what: string) =>
  Flag.Int(name).pipe(
    Flag.filter(
      (n) => n >= min && n <= max,
      () => `Expected ${min} to ${max} ${what}`
    )
  )

/** Flags that choose where answers come from. */
export const source = {
  api: Flag.Literals("api", ["chat", "responses"] as const).pipe(
    Flag.withDefault("chat"),
    Flag.withDescription(
      "Which OpenAI API to call: chat (Chat Completions) or responses (the Responses API in background mode: a broken stream is resumed, not continued)."
    )
  ),
  scenario: Flag.Literals("scenario", FakeScenario.names).pipe(
    Flag.withDefault("flaky"),
    Flag.withDescription(
      `Fault scenario of the embedded fake server (used without a key or base URL): ${FakeScenario.menu}.`
    )
  ),
  apiKey: Flag.Redacted("api-key").pipe(
    Flag.optional,
    Flag.withDescription("OpenAI API key (default: $OPENAI_API_KEY). With a key, the real API is used.")
  ),
  baseUrl: Flag.String("base-url").pipe(
    Flag.optional,
    Flag.withDescription(
      "Any OpenAI-compatible server, e.g. http://localhost:11434/v1 (default: $OPENAI_BASE_URL)."
    )
  ),
  model: Flag.String("model").pipe(
    Flag.optional,
    Flag.withDescription(`The model (default: ${ModelSource.defaultModel}; gpt-fake with the fake server).`)
  ),
  fakeDelay: duration("fake-delay", { min: Duration.zero, max: Duration.seconds(10) }).pipe(
    Flag.withDefault(Duration.millis(40)),
    Flag.withDescription("The embedded fake server's pause before each chunk (default 40ms; 0 to 10s).")
  )
}

/** Flags that tune the resilience policy; each default is the library's. */
export const policy = {
  maxRetries: count("max-retries", 0, 10, "retries").pipe(
    Flag.withDefault(3),
    Flag.withDescription("Retries for the whole call, mid-stream recoveries included (default 3; 0 to 10).")
  ),
  baseDelay: duration("base-delay", { min: Duration.millis(1), max: Duration.minutes(1) }).pipe(
    Flag.withDefault(Duration.millis(500)),
    Flag.withDescription("First backoff delay, doubled on each retry, jittered (default 500ms; 1ms to 1m).")
  ),
  idleTimeout: duration("idle-timeout", { min: Duration.millis(100), max: Duration.minutes(10) }).pipe(
    Flag.withDefault(Duration.seconds(30)),
    Flag.withDescription(
      "Longest silence between two chunks before the stream is recovered (default 30s; 100ms to 10m)."
    )
  )
}

/**
 * What the backend does after part of an answer was delivered and the stream
 * broke: a verified continuation (default), or withdraw the partial answer
 * and stream a fresh one (the page takes the text back).
 */
export const midStream = Flag.Literals("mid-stream", ["continue", "restart", "fail"]).pipe(
  Flag.withDefault("continue" as const),
  Flag.withDescription(
    "After a break mid-answer: continue the answer (verified), restart it (the page withdraws the partial text), or fail (default continue)."
  )
)

/** The values of {@link source}, with the environment filled in. */
export const sourceOptions = (flags: {
  readonly api: ModelSource.Api
  readonly scenario: FakeScenario.Name
  readonly apiKey: Option.Option<Redacted.Redacted<string>>
  readonly baseUrl: Option.Option<string>
  readonly model: Option.Option<string>
  readonly fakeDelay: Duration.Duration
}): Effect.Effect<ModelSource.Options> =>
  Effect.gen(function* () {
    const envKey = yield* Config.option(Config.String("OPENAI_API_KEY")).pipe(
      Effect.map(Option.filter((key) => key.trim().length > 0)),
      Effect.orElseSucceed(() => Option.none<string>())
    )
    const envUrl = yield* Config.option(Config.String("OPENAI_BASE_URL")).pipe(
      Effect.map(Option.filter((url) => url.trim().length > 0)),
      Effect.orElseSucceed(() => Option.none<string>())
    )
    return {
      ...flags,
      apiKey: Option.orElse(flags.apiKey, () => Option.map(envKey, Redacted.make)),
      baseUrl: Option.orElse(flags.baseUrl, () => envUrl)
    }
  })

/** The policy the flags describe, and how many attempts it allows in all. */
export const toPolicy = (flags: {
  readonly maxRetries: number
  readonly baseDelay: Duration.Duration
  readonly idleTimeout: Duration.Duration
}): { readonly policy: ResiliencePolicy.ResiliencePolicy; readonly maxAttempts: number } => ({
  policy: {
    retry: { maxRetries: flags.maxRetries, baseDelay: flags.baseDelay },
    timeouts: { idle: flags.idleTimeout }
  },
  // The first attempt, every retry, and the default fallback step (non-streaming).
  maxAttempts: 1 + flags.maxRetries + 1
})
