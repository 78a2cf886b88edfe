/**
 * Where the examples' answers come from: the real OpenAI API (or any
 * OpenAI-compatible server) when a key or a base URL is given, otherwise an
 * embedded `FakeOpenAiServer` playing a named fault scenario, so a first run
 * shows recovery happening without an account.
 */
import type { ChatError, ChatModel } from "@steadystream/core"
import { OpenAiChatModel, type OpenAiClient, OpenAiResponsesModel } from "@steadystream/openai-adapter"
import { FakeOpenAiServer, FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"

/** Which OpenAI API the adapter calls. */
export type Api = "chat" | "responses"

export interface Options {
  /** Chat Completions, or the Responses API (background mode, true resume). */
  readonly api: Api
  readonly apiKey: Option.Option<Redacted.Redacted<string>>
  readonly baseUrl: Option.Option<string>
  readonly model: Option.Option<string>
  /** The embedded fake server's scenario, used when there is no key and no base URL. */
  readonly scenario: FakeScenario.Name
  /** The embedded fake server's pause before each chunk, so the answer visibly streams. */
  readonly fakeDelay: Duration.Duration
}

export interface Source {
  readonly layer: Layer.Layer<ChatModel.ChatModel | OpenAiClient.OpenAiClient, ChatError.ChatError>
  readonly model: string
  /** Where the answers come from, in one line for people. */
  readonly description: string
}

const adapter = (api: Api) => (api === "responses" ? OpenAiResponsesModel.layer : OpenAiChatModel.layer)

const via = (api: Api) => (api === "responses" ? " (Responses API, background mode)" : "")

/** The model asked for when talking to the real API without `--model`. */
export const defaultModel = "gpt-4o-mini"

/** A step of the scenario with the drip delay added to answers that have none. */
const withDelay =
  (delay: Duration.Duration) =>
  (step: FakeScenario.Step): FakeScenario.Step =>
    step._tag === "Answer" && step.delay === undefined && Duration.isPositive(delay)
      ? { ...step, delay }
      : step

/**
 * The scenario the embedded server plays: the named one, with answers that
 * drip at `delay` per chunk unless the scenario sets its own pace.
 */
export const scenario = (name: FakeScenario.Name, delay: Duration.Duration): FakeScenario.Scenario => {
  const named = FakeScenario.named[name]
  return {
    ...named,
    steps: named.steps.map(withDelay(delay)),
    fallback: withDelay(delay)(named.fallback ?? FakeScenario.answer())
  }
}

/** The exact text the embedded server answers with in a scenario. */
export const scriptedAnswer = (name: FakeScenario.Name): string =>
  FakeScenario.named[name].text ?? FakeScenario.defaultText

/**
 * Picks the source. With neither a key nor a base URL, starts the embedded
 * fake server in the current scope.
 *
 * **Gotchas**
 *
 * A base URL without a key is allowed (local OpenAI-compatible servers often
 * need none): a placeholder key is sent.
 */
export const make = (options: Options): Effect.Effect<Source, never, Scope.Scope> =>
  Effect.gen(function* () {
    if (Option.isSome(options.apiKey) || Option.isSome(options.baseUrl)) {
      const apiKey = Option.getOrElse(options.apiKey, () => Redacted.make("no-key"))
      const baseURL = Option.getOrUndefined(options.baseUrl)
      return {
        layer: adapter(options.api)({ apiKey, ...(baseURL === undefined ? {} : { baseURL }) }),
        model: Option.getOrElse(options.model, () => defaultModel),
        description: (baseURL ?? "the OpenAI API") + via(options.api)
      }
    }
    // Nobody inspects the embedded server's requests: keeping none keeps its memory flat.
    const server = yield* FakeOpenAiServer.make({
      ...scenario(options.scenario, options.fakeDelay),
      record: false
    }).pipe(Effect.orDie)
    return {
      layer: adapter(options.api)({ apiKey: Redacted.make("sk-fake"), baseURL: server.url }),
      model: Option.getOrElse(options.model, () => "gpt-fake"),
      description: `the embedded fake OpenAI server${via(options.api)}, scenario "${options.scenario}": ${FakeScenario.descriptions[options.scenario]}`
    }
  })
