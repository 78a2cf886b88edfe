import { assert, describe, it } from "@effect/vitest"
import { ChatModel, type ModelEvent } from "@steadystream/core"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as OpenAiChatModel from "../src/OpenAiChatModel.ts"
import * as OpenAiClient from "../src/OpenAiClient.ts"
import * as FakeOpenAiServer from "../src/testing/FakeOpenAiServer.ts"
import * as FakeScenario from "../src/testing/FakeScenario.ts"
import { apiKey, expectTag, request, run, setup, text, textOf, words } from "./fixtures.ts"

const wordCount = text.match(/\S+\s*/g)!.length

describe("OpenAiChatModel.stream", () => {
  it.effect("streams the answer word by word, then exactly one finish with usage", () =>
    Effect.gen(function* () {
      const { server, model } = yield* setup()
      const { events, error } = yield* run(model)
      assert.isUndefined(error)
      assert.strictEqual(model.provider, "openai")
      const deltas = events.slice(0, -1)
      assert.strictEqual(deltas.length, wordCount)
      assert.deepStrictEqual(
        deltas.map((event) => (event.type === "text-delta" ? event.delta : "?")),
        text.match(/\S+\s*/g)
      )
      assert.deepStrictEqual(events.at(-1), {
        type: "finish",
        reason: "stop",
        rawReason: "stop",
        usage: { inputTokens: 4, outputTokens: wordCount, totalTokens: 4 + wordCount }
      })
      const [recorded] = yield* server.requests
      assert.deepStrictEqual((recorded!.body as { stream_options?: unknown }).stream_options, {
        include_usage: true
      })
      assert.strictEqual(recorded!.headers.authorization, `Bearer ${apiKey}`)
      assert.strictEqual(recorded!.headers["x-stainless-retry-count"], "0")
    })
  )

  it.effect("sends the request's options in the Chat Completions shape", () =>
    Effect.gen(function* () {
      const { server, model } = yield* setup()
      yield* run(model, {
        model: "gpt-fake",
        messages: [
          { role: "system", content: "Be brief" },
          { role: "user", content: "Hi", name: "ann" },
          { role: "tool", content: "{}", toolCallId: "call_1" }
        ],
        temperature: 0.5,
        topP: 0.9,
        maxTokens: 64,
        stop: ["END"],
        user: "u-1",
        tools: [{ name: "get_weather", description: "Weather", parameters: { type: "object" } }]
      })
      const [recorded] = yield* server.requests
      const body = recorded!.body as Record<string, unknown>
      assert.deepStrictEqual(body.messages, [
        { role: "system", content: "Be brief" },
        { role: "user", content: "Hi", name: "ann" },
        { role: "tool", content: "{}", tool_call_id: "call_1" }
      ])
      assert.strictEqual(body.temperature, 0.5)
      assert.strictEqual(body.top_p, 0.9)
      assert.strictEqual(body.max_completion_tokens, 64)
      assert.deepStrictEqual(body.stop, ["END"])
      assert.strictEqual(body.user, "u-1")
      assert.deepStrictEqual(body.tools, [
        {
          type: "function",
          function: { name: "get_weather", description: "Weather", parameters: { type: "object" } }
        }
      ])
      assert.strictEqual(body.stream, true)
    })
  )

  it.effect("sends a continuation request as it is; the server answers the exact remainder", () =>
    Effect.gen(function* () {
      const { server, model } = yield* setup()
      const prefix = words(5)
      const { text: got, error } = yield* run(model, {
        model: "gpt-fake",
        messages: [...request.messages, { role: "assistant", content: prefix }]
      })
      assert.isUndefined(error)
      assert.strictEqual(prefix + got, text)
      const [recorded] = yield* server.requests
      assert.strictEqual(recorded!.continuedFrom, prefix)
    })
  )

  it.effect("a scripted overlap repeats the end of the prefix (chars and words)", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({
        steps: [
          FakeScenario.answer({ overlap: { chars: 4 } }),
          FakeScenario.answer({ overlap: { words: 2 } })
        ]
      })
      const prefix = words(6)
      const continuation = {
        model: "gpt-fake",
        messages: [...request.messages, { role: "assistant" as const, content: prefix }]
      }
      const byChars = yield* run(model, continuation)
      assert.strictEqual(byChars.text, prefix.slice(-4) + text.slice(prefix.length))
      const byWords = yield* run(model, continuation)
      const lastTwoWords = prefix.trim().split(" ").slice(-2).join(" ")
      assert.strictEqual(byWords.text, `${lastTwoWords} ${text.slice(prefix.length)}`)
    })
  )

  it.effect("streams tool-call deltas and finishes with tool-calls", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({
        steps: [
          FakeScenario.answer({
            text: "",
            toolCalls: [
              { id: "call_abc", name: "get_weather", arguments: '{"city":"Paris","unit":"celsius"}' }
            ]
          })
        ]
      })
      const { events, error } = yield* run(model)
      assert.isUndefined(error)
      const calls = events.filter((event) => event.type === "tool-call-delta")
      assert.deepStrictEqual(calls[0], {
        type: "tool-call-delta",
        index: 0,
        id: "call_abc",
        name: "get_weather",
        argumentsDelta: ""
      })
      assert.deepStrictEqual(calls[1], { type: "tool-call-delta", index: 0, argumentsDelta: '{"city":' })
      assert.strictEqual(
        calls.map((event) => event.argumentsDelta).join(""),
        '{"city":"Paris","unit":"celsius"}'
      )
      assert.strictEqual(textOf(events), "")
      const finish = events.at(-1) as ModelEvent.ModelEvent & { type: "finish" }
      assert.strictEqual(finish.reason, "tool-calls")
      assert.strictEqual(finish.rawReason, "tool_calls")
    })
  )

  it.effect("finish_reason length and content_filter keep their raw value", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({
        steps: [
          FakeScenario.answer({ finishReason: "length" }),
          FakeScenario.answer({ finishReason: "content_filter" })
        ]
      })
      const length = yield* run(model)
      assert.strictEqual(length.text, text)
      assert.deepStrictEqual(
        [length.events.at(-1)?.type, (length.events.at(-1) as { reason?: string }).reason],
        ["finish", "length"]
      )
      const filtered = yield* run(model)
      assert.strictEqual(filtered.text, text)
      assert.include(filtered.events.at(-1), {
        type: "finish",
        reason: "content-filter",
        rawReason: "content_filter"
      })
    })
  )

  it.effect("content_filter with nothing delivered fails with ContentFiltered", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({
        steps: [FakeScenario.answer({ text: "", finishReason: "content_filter" })]
      })
      const { events, error } = yield* run(model)
      assert.deepStrictEqual(events, [])
      const filtered = expectTag(error, "ContentFiltered")
      assert.isFalse(filtered.isRetryable)
      assert.strictEqual(filtered.requestId, "req_fake_000001")
    })
  )

  it.live("a slow drip delivers every chunk, in order, spaced in time", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({
        steps: [FakeScenario.answer({ text: "one two three four", delay: "30 millis" })]
      })
      const started = Date.now()
      const { text: got, error } = yield* run(model)
      assert.isUndefined(error)
      assert.strictEqual(got, "one two three four")
      assert.isAtLeast(Date.now() - started, 4 * 30 - 5)
    })
  )

  it.effect("multi-byte characters split across TCP writes arrive intact", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({
        text: FakeScenario.unicodeText,
        steps: [FakeScenario.answer({ splitUtf8: true, chunkChars: 3 })]
      })
      const { events, text: got, error } = yield* run(model)
      assert.isUndefined(error)
      assert.strictEqual(got, FakeScenario.unicodeText)
      for (const event of events) {
        if (event.type === "text-delta") assert.notInclude(event.delta, "\uFFFD")
      }
    })
  )

  it.live("interrupting the consumer after 3 chunks aborts the request; the server sees the close", () =>
    Effect.gen(function* () {
      const { server, model } = yield* setup({ steps: [FakeScenario.answer({ delay: "40 millis" })] })
      const seen: Array<string> = []
      const fiber = yield* model.stream(request).pipe(
        Stream.runForEach((event) =>
          Effect.sync(() => seen.push(event.type === "text-delta" ? event.delta : ""))
        ),
        Effect.forkChild
      )
      yield* Effect.gen(function* () {
        while (seen.length < 3) yield* Effect.sleep("5 millis")
      }).pipe(Effect.timeout("2 seconds"))
      assert.strictEqual(yield* server.openConnections, 1)
      yield* Fiber.interrupt(fiber)
      yield* server.awaitOpenConnections(0).pipe(Effect.timeout("1 second"))
      const [recorded] = yield* server.requests
      assert.isTrue(recorded!.clientClosedEarly)
      assert.isFalse(recorded!.finished)
      assert.strictEqual(seen.join(""), words(3))
    })
  )
})

describe("OpenAiChatModel.complete", () => {
  it.effect("answers with the whole completion", () =>
    Effect.gen(function* () {
      const { server, model } = yield* setup()
      const completion = yield* model.complete(request)
      assert.deepStrictEqual(completion, {
        text,
        finishReason: "stop",
        rawFinishReason: "stop",
        usage: { inputTokens: 4, outputTokens: wordCount, totalTokens: 4 + wordCount },
        model: "gpt-fake",
        requestId: "req_fake_000001"
      })
      const [recorded] = yield* server.requests
      assert.strictEqual((recorded!.body as { stream?: unknown }).stream, false)
    })
  )

  it.effect("answers a continuation with the remainder, and returns tool calls", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({
        steps: [
          FakeScenario.answer(),
          FakeScenario.answer({
            text: "",
            toolCalls: [{ id: "call_1", name: "lookup", arguments: '{"q":"fox"}' }]
          })
        ]
      })
      const prefix = words(7)
      const rest = yield* model.complete({
        model: "gpt-fake",
        messages: [...request.messages, { role: "assistant", content: prefix }]
      })
      assert.strictEqual(prefix + rest.text, text)
      const tools = yield* model.complete(request)
      assert.deepStrictEqual(tools.toolCalls, [{ id: "call_1", name: "lookup", arguments: '{"q":"fox"}' }])
      assert.strictEqual(tools.finishReason, "tool-calls")
      assert.strictEqual(tools.text, "")
    })
  )

  it.effect("maps failures of the non-streaming call", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({
        steps: [
          FakeScenario.rateLimited(FakeScenario.retryAfterSeconds(7)),
          FakeScenario.answer({ text: "", finishReason: "content_filter" }),
          FakeScenario.malformedAfter(0)
        ]
      })
      const limited = expectTag(yield* Effect.flip(model.complete(request)), "RateLimited")
      assert.strictEqual(limited.retryAfter && Duration.toMillis(limited.retryAfter), 7000)
      expectTag(yield* Effect.flip(model.complete(request)), "ContentFiltered")
      expectTag(yield* Effect.flip(model.complete(request)), "MalformedResponse")
    })
  )
})

describe("OpenAiChatModel layers", () => {
  it.effect("layer with preflight succeeds against a healthy server and serves ChatModel", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({ apiKey })
      const completion = yield* ChatModel.ChatModel.use((model) => model.complete(request)).pipe(
        Effect.provide(
          OpenAiChatModel.layer({ apiKey: Redacted.make(apiKey), baseURL: server.url, preflight: true })
        )
      )
      assert.strictEqual(completion.text, text)
      const recorded = yield* server.requests
      assert.deepStrictEqual(
        recorded.map((r) => `${r.method} ${r.path}`),
        ["GET /v1/models", "POST /v1/chat/completions"]
      )
    })
  )

  it.effect("preflight fails with AuthenticationFailed for a wrong key, before any chat request", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({ apiKey: "sk-the-right-one" })
      const error = yield* ChatModel.ChatModel.use((model) => model.complete(request)).pipe(
        Effect.provide(
          OpenAiChatModel.layer({ apiKey: Redacted.make(apiKey), baseURL: server.url, preflight: true })
        ),
        Effect.flip
      )
      const failed = expectTag(error as never, "AuthenticationFailed")
      assert.strictEqual(failed.status, 401)
      assert.include(failed.message, "[REDACTED]")
      assert.deepStrictEqual(
        (yield* server.requests).map((r) => r.path),
        ["/v1/models"]
      )
    })
  )

  it.effect("preflight fails with ConnectionFailed when nothing listens", () =>
    Effect.gen(function* () {
      const url = yield* Effect.scoped(FakeOpenAiServer.make().pipe(Effect.map((server) => server.url)))
      const error = yield* OpenAiChatModel.preflight.pipe(
        Effect.provide(OpenAiClient.layer({ apiKey: Redacted.make(apiKey), baseURL: url })),
        Effect.flip
      )
      expectTag(error, "ConnectionFailed")
    })
  )

  it.effect("layerConfig reads OPENAI_API_KEY and OPENAI_BASE_URL", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({ apiKey })
      const provider = ConfigProvider.fromEnv({
        env: { OPENAI_API_KEY: apiKey, OPENAI_BASE_URL: server.url }
      })
      const completion = yield* ChatModel.ChatModel.use((model) => model.complete(request)).pipe(
        Effect.provide(
          OpenAiChatModel.layerConfig().pipe(
            Layer.provide(Layer.succeed(ConfigProvider.ConfigProvider, provider))
          )
        )
      )
      assert.strictEqual(completion.text, text)
    })
  )

  it.effect("layerConfig without OPENAI_API_KEY fails at build with a ConfigError naming it", () =>
    Effect.gen(function* () {
      for (const env of [{}, { OPENAI_API_KEY: "" }]) {
        const provider = ConfigProvider.fromEnv({ env })
        const error = yield* Layer.build(OpenAiChatModel.layerConfig()).pipe(
          Effect.provideService(ConfigProvider.ConfigProvider, provider),
          Effect.scoped,
          Effect.flip
        )
        assert.strictEqual(error._tag, "ConfigError")
        assert.include(String(error), "OPENAI_API_KEY")
      }
    })
  )
})
