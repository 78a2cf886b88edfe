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

const duration = (name: string) =>
  Flag.String(name).pipe(
    Flag.withMetavar("duration"),
    Flag.filterMap(parseDuration, (input) => `Expected a duration like 500ms, 1.5s or 2m, got "${input}"`)
  )

/** Flags that choose where answers come from. */
export const source = {
  scenario: Flag.Literals("scenario", FakeScenario.names).pipe(
    Flag.withDefault("flaky"),
    Flag.withDescription(
      `Fault scenario of the embedded fake server (used without a key or base URL): ${FakeScenario.names
        .map((name) => `${name} = ${ModelSource.scenarioHelp[name]}`)
        .join("; ")}.`
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
  fakeDelay: duration("fake-delay").pipe(
    Flag.withDefault(Duration.millis(40)),
    Flag.withDescription("The embedded fake server's pause before each chunk (default 40ms).")
  )
}

/** Flags that tune the resilience policy; each default is the library's. */
export const policy = {
  maxRetries: Flag.Int("max-retries").pipe(
    Flag.filter(
      (n) => n >= 0,
      (n) => `Expected 0 or more retries, got ${n}`
    ),
    Flag.withDefault(3),
    Flag.withDescription("Retries for the whole call, mid-stream recoveries included (default 3).")
  ),
  baseDelay: duration("base-delay").pipe(
    Flag.withDefault(Duration.millis(500)),
    Flag.withDescription("First backoff delay, doubled on each retry, jittered (default 500ms).")
  ),
  idleTimeout: duration("idle-timeout").pipe(
    Flag.withDefault(Duration.seconds(30)),
    Flag.withDescription("Longest silence between two chunks before the stream is recovered (default 30s).")
  )
}

/** The values of {@link source}, with the environment filled in. */
export const sourceOptions = (flags: {
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
