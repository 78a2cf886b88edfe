// The adapter against chunk shapes real servers send: finish_reason "error", refusals, reasoning,
// OpenRouter's and Azure's extras, and the request dialect (native continuation, max-tokens field).
import { assert, describe, it } from "@effect/vitest"
import { ChatModel, type ModelEvent } from "@steadystream/core"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as OpenAiChatModel from "../src/OpenAiChatModel.ts"
import * as OpenAiClient from "../src/OpenAiClient.ts"
import * as FakeOpenAiServer from "../src/testing/FakeOpenAiServer.ts"
import * as FakeScenario from "../src/testing/FakeScenario.ts"
import { apiKey, expectTag, request, run, setup, text, words } from "./fixtures.ts"

const reasoningOf = (events: ReadonlyArray<ModelEvent.ModelEvent>): string =>
  events.map((event) => (event.type === "reasoning-delta" ? event.delta : "")).join("")

/** The adapter with `options` over a fresh fake server playing `steps`. */
const withDialect = Effect.fnUntraced(function* (
  options: OpenAiChatModel.DialectOptions,
  steps: ReadonlyArray<FakeScenario.Step> = []
) {
  const server = yield* FakeOpenAiServer.make({ apiKey, steps })
  const model = yield* OpenAiChatModel.make(options).pipe(
    Effect.provide(OpenAiClient.layer({ apiKey: Redacted.make(apiKey), baseURL: server.url }))
  )
  return { server, model }
})

const continuation = {
  model: "gpt-fake",
  messages: [...request.messages, { role: "assistant" as const, content: words(5) }]
}

const bodyOf = (recorded: FakeOpenAiServer.RecordedRequest | undefined) =>
  recorded?.body as Record<string, unknown> & { readonly messages: ReadonlyArray<Record<string, unknown>> }

describe("OpenAiChatModel on the wire real servers speak", () => {
  it.effect(
    'finish_reason "error" without an error object fails with ServerError even though [DONE] follows',
    () =>
      Effect.gen(function* () {
        const { model } = yield* setup({ steps: [FakeScenario.finishErrorAfter(6)] })
        const { events, error, text: got } = yield* run(model)
        const failed = expectTag(error, "ServerError")
        assert.isTrue(failed.isRetryable)
        assert.include(failed.message, 'finish_reason "error"')
        assert.strictEqual(got, words(6))
        assert.isFalse(events.some((event) => event.type === "finish"))
      })
  )

  it.effect("OpenRouter: comments and reasoning are read, its error object (code 502) is a ServerError", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({
        steps: [
          FakeScenario.finishErrorAfter(4, {
            shape: "openrouter",
            reasoning: { field: "reasoning", text: "Thinking about the sea." },
            error: { code: 502, message: "Provider returned error" }
          }),
          FakeScenario.finishErrorAfter(2, {
            shape: "openrouter",
            error: { code: "server_error", message: "Provider disconnected unexpectedly" }
          }),
          FakeScenario.answer({ shape: "openrouter" })
        ]
      })
      const broken = yield* run(model)
      assert.strictEqual(reasoningOf(broken.events), "Thinking about the sea.")
      assert.strictEqual(broken.text, words(4))
      const failed = expectTag(broken.error, "ServerError")
      assert.strictEqual(failed.status, 502)
      assert.include(failed.message, "Provider returned error")
      expectTag((yield* run(model)).error, "ServerError")
      const ok = yield* run(model)
      assert.isUndefined(ok.error)
      assert.strictEqual(ok.text, text)
      assert.strictEqual(ok.events.filter((event) => event.type === "finish").length, 1)
    })
  )

  it.effect("Azure: a prompt-filter first chunk and an annotation chunk without delta change nothing", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({ steps: [FakeScenario.answer({ shape: "azure" })] })
      const { events, error, text: got } = yield* run(model)
      assert.isUndefined(error)
      assert.strictEqual(got, text)
      assert.deepStrictEqual(
        events
          .filter((event) => event.type === "finish")
          .map((event) => event.type === "finish" && event.reason),
        ["stop"]
      )
    })
  )

  it.effect("a refusal fails with ContentFiltered carrying its words, streamed or not; no text", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({ steps: [FakeScenario.refuses(), FakeScenario.refuses("No.")] })
      const streamed = yield* run(model)
      assert.deepStrictEqual(streamed.events, [])
      const filtered = expectTag(streamed.error, "ContentFiltered")
      assert.strictEqual(filtered.refusal, FakeScenario.refusalText)
      assert.isFalse(filtered.isRetryable)
      const whole = expectTag(yield* Effect.flip(model.complete(request)), "ContentFiltered")
      assert.strictEqual(whole.refusal, "No.")
    })
  )

  it.effect("reasoning deltas (either field) are reasoning-delta events before the text, never text", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({
        steps: [
          FakeScenario.reasoningFirst(),
          FakeScenario.reasoningFirst({ field: "reasoning", text: "Short thought." }),
          FakeScenario.reasoningFirst()
        ]
      })
      const deepseek = yield* run(model)
      assert.isUndefined(deepseek.error)
      assert.strictEqual(reasoningOf(deepseek.events), FakeScenario.reasoningText)
      assert.strictEqual(deepseek.text, text)
      const firstText = deepseek.events.findIndex((event) => event.type === "text-delta")
      const lastReasoning = deepseek.events.findLastIndex((event) => event.type === "reasoning-delta")
      assert.isBelow(lastReasoning, firstText)
      const vllm = yield* run(model)
      assert.strictEqual(reasoningOf(vllm.events), "Short thought.")
      assert.strictEqual(vllm.text, text)
      // Non-streaming: the reasoning field is not part of the answer.
      assert.strictEqual((yield* model.complete(request)).text, text)
    })
  )

  it.effect('a non-streamed finish_reason "error" is a ServerError, with its error object mapped', () =>
    Effect.gen(function* () {
      const { model } = yield* setup({
        steps: [
          FakeScenario.finishErrorAfter(3),
          FakeScenario.finishErrorAfter(3, { error: { code: 429, message: "Rate limited upstream" } })
        ]
      })
      expectTag(yield* Effect.flip(model.complete(request)), "ServerError")
      expectTag(yield* Effect.flip(model.complete(request)), "RateLimited")
    })
  )
})

describe("OpenAiChatModel dialects", () => {
  it.effect(
    "continue-final-message: the vLLM flags on a continuation only; the server continues exactly",
    () =>
      Effect.gen(function* () {
        const { server, model } = yield* withDialect({ continuation: "continue-final-message" }, [
          FakeScenario.continuesNatively("continue_final_message"),
          FakeScenario.continuesNatively("continue_final_message")
        ])
        assert.strictEqual(model.continuation, "native")
        const rest = yield* run(model, continuation)
        assert.isUndefined(rest.error)
        assert.strictEqual(words(5) + rest.text, text)
        yield* run(model)
        const [continued, plain] = yield* server.requests
        assert.include(bodyOf(continued), { continue_final_message: true, add_generation_prompt: false })
        assert.notProperty(bodyOf(plain), "continue_final_message")
        assert.notProperty(bodyOf(plain), "add_generation_prompt")
      })
  )

  it.effect("prefix: the last assistant message carries prefix: true; the server continues exactly", () =>
    Effect.gen(function* () {
      const { server, model } = yield* withDialect({ continuation: "prefix" }, [
        FakeScenario.continuesNatively("prefix")
      ])
      assert.strictEqual(model.continuation, "native")
      const rest = yield* run(model, continuation)
      assert.strictEqual(words(5) + rest.text, text)
      const [recorded] = yield* server.requests
      assert.deepStrictEqual(bodyOf(recorded).messages.at(-1), {
        role: "assistant",
        content: words(5),
        prefix: true
      })
      assert.notProperty(bodyOf(recorded), "continue_final_message")
    })
  )

  it.effect("instruction (the default) sends no native field; a native server then starts over", () =>
    Effect.gen(function* () {
      const { server, model } = yield* withDialect({}, [FakeScenario.continuesNatively("prefix")])
      assert.strictEqual(model.continuation, "instruction")
      const answer = yield* run(model, continuation)
      assert.strictEqual(answer.text, FakeScenario.restartText)
      const [recorded] = yield* server.requests
      assert.notProperty(bodyOf(recorded).messages.at(-1), "prefix")
      assert.notProperty(bodyOf(recorded), "continue_final_message")
    })
  )

  it.effect("vLLM answers continue_final_message without add_generation_prompt: false with a 400", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({
        apiKey,
        steps: [FakeScenario.continuesNatively("continue_final_message")]
      })
      const response = yield* Effect.promise(() =>
        fetch(`${server.url}/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ ...continuation, continue_final_message: true })
        })
      )
      assert.strictEqual(response.status, 400)
      assert.include(yield* Effect.promise(() => response.text()), "add_generation_prompt")
    })
  )

  it.effect("maxTokensField picks the field that carries maxTokens", () =>
    Effect.gen(function* () {
      const { server, model } = yield* withDialect({ maxTokensField: "max_tokens" })
      yield* run(model, { ...request, maxTokens: 64 })
      yield* model.complete({ ...request, maxTokens: 32 })
      const [streamed, whole] = yield* server.requests
      assert.strictEqual(bodyOf(streamed).max_tokens, 64)
      assert.notProperty(bodyOf(streamed), "max_completion_tokens")
      assert.strictEqual(bodyOf(whole).max_tokens, 32)
    })
  )

  it.effect(
    "layerConfig reads OPENAI_CONTINUATION and OPENAI_MAX_TOKENS_FIELD; a bad value names its variable",
    () =>
      Effect.gen(function* () {
        const server = yield* FakeOpenAiServer.make({ apiKey })
        const env = (extra: Record<string, string>) =>
          Layer.succeed(
            ConfigProvider.ConfigProvider,
            ConfigProvider.fromEnv({ env: { OPENAI_API_KEY: apiKey, OPENAI_BASE_URL: server.url, ...extra } })
          )
        const model = yield* ChatModel.ChatModel.pipe(
          Effect.provide(
            OpenAiChatModel.layerConfig({ continuation: "prefix" }).pipe(
              Layer.provide(
                env({ OPENAI_CONTINUATION: "continue-final-message", OPENAI_MAX_TOKENS_FIELD: "max_tokens" })
              )
            )
          )
        )
        assert.strictEqual(model.continuation, "native")
        yield* run(model, { ...continuation, maxTokens: 9 })
        const [recorded] = yield* server.requests
        assert.include(bodyOf(recorded), { continue_final_message: true, max_tokens: 9 })
        assert.notProperty(bodyOf(recorded).messages.at(-1), "prefix")
        for (const name of ["OPENAI_CONTINUATION", "OPENAI_MAX_TOKENS_FIELD"]) {
          const error = yield* Layer.build(OpenAiChatModel.layerConfig()).pipe(
            Effect.provide(env({ [name]: "sometimes" })),
            Effect.scoped,
            Effect.flip
          )
          assert.strictEqual(error._tag, "ConfigError")
          assert.include(String(error), name)
        }
      })
  )
})
