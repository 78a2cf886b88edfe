import { assert, describe, it } from "@effect/vitest"
import * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import type * as Prompt from "effect/ai/Prompt"
import type * as Response from "effect/ai/Response"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as ChatError from "../src/ChatError.ts"
import * as ChatModel from "../src/ChatModel.ts"
import type * as ChatRequest from "../src/ChatRequest.ts"
import * as FallbackStep from "../src/FallbackStep.ts"
import * as LanguageModelChatModel from "../src/LanguageModelChatModel.ts"
import * as ResilientChat from "../src/ResilientChat.ts"
import * as ScriptedChatModel from "../src/testing/ScriptedChatModel.ts"

const answer = "The quick brown fox jumps over the lazy dog"
const usage = { inputTokens: { total: 9 }, outputTokens: { total: 4 } }

/**
 * An in-memory LanguageModel answering every call with `parts(options)` (whole parts for generateText,
 * stream parts for streamText), recording what it was asked.
 */
const fakeModel = (
  parts: (options: LanguageModel.ProviderOptions) => ReadonlyArray<Response.AnyPartEncoded>
) =>
  Effect.gen(function* () {
    const seen: Array<LanguageModel.ProviderOptions> = []
    const model = yield* LanguageModel.make({
      generateText: (options) =>
        Effect.sync(() => {
          seen.push(options)
          return parts(options) as Array<Response.PartEncoded>
        }),
      streamText: (options) =>
        Stream.suspend(() => {
          seen.push(options)
          return Stream.fromIterable(parts(options) as ReadonlyArray<Response.StreamPartEncoded>)
        })
    })
    return { model, seen }
  })

const request: ChatRequest.ChatRequest = {
  model: "m",
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Tide in Brest?" },
    { role: "assistant", content: "Checking." },
    { role: "tool", content: "14:05", toolCallId: "call_1", name: "get_tide" }
  ],
  tools: [
    {
      name: "get_tide",
      description: "High tide",
      parameters: { type: "object", properties: { harbour: { type: "string" } } }
    }
  ]
}

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  const reason = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
  if (reason?._tag === "Fail") return reason.error
  throw new Error(`expected a typed failure, got ${String(Exit.isFailure(exit) ? exit.cause : "success")}`)
}

describe("ChatModel.fromLanguageModel", () => {
  it.effect("sends the messages as a prompt and the tools, never running them", () =>
    Effect.gen(function* () {
      const { model, seen } = yield* fakeModel(() => [{ type: "finish", reason: "stop", usage }])
      yield* Stream.runDrain(ChatModel.fromLanguageModel(model).stream(request))
      const [options] = seen
      assert.deepStrictEqual(options?.prompt.content.map(summary), [
        ["system", "Be brief."],
        ["user", "Tide in Brest?"],
        ["assistant", "Checking."],
        ["tool", "tool-result"]
      ])
      const tool = options?.prompt.content[3]
      const result = tool?.role === "tool" ? tool.content[0] : undefined
      assert.deepStrictEqual(
        result?.type === "tool-result" && [result.id, result.name, result.result, result.isFailure],
        ["call_1", "get_tide", "14:05", false]
      )
      assert.deepStrictEqual(
        options?.tools.map((tool) => tool.name),
        ["get_tide"]
      )
    })
  )

  it.effect("maps text, reasoning, tool calls and finish to events, dropping the rest", () =>
    Effect.gen(function* () {
      const { model } = yield* fakeModel(() => [
        { type: "response-metadata", id: "resp_1" },
        { type: "reasoning-delta", id: "r", delta: "Hmm." },
        { type: "text-start", id: "t" },
        { type: "text-delta", id: "t", delta: "Checking." },
        { type: "text-end", id: "t" },
        { type: "tool-call", id: "call_9", name: "get_tide", params: { harbour: "Brest" } },
        { type: "finish", reason: "pause", usage }
      ])
      const events = yield* Stream.runCollect(ChatModel.fromLanguageModel(model).stream(request))
      assert.deepStrictEqual(events, [
        { type: "reasoning-delta", delta: "Hmm." },
        { type: "text-delta", delta: "Checking." },
        {
          type: "tool-call-delta",
          index: 0,
          id: "call_9",
          name: "get_tide",
          argumentsDelta: '{"harbour":"Brest"}'
        },
        {
          type: "finish",
          reason: "other",
          rawReason: "pause",
          usage: { inputTokens: 9, outputTokens: 4, totalTokens: 13 }
        }
      ])
    })
  )

  it.effect("fails on an error part, and turns an AiError into its ChatError", () =>
    Effect.gen(function* () {
      const { model } = yield* fakeModel(() => [
        { type: "text-delta", id: "t", delta: "The" },
        { type: "error", error: "overloaded" }
      ])
      const inBand = failureOf(
        yield* Effect.exit(Stream.runDrain(ChatModel.fromLanguageModel(model).stream(request)))
      )
      assert.strictEqual(inBand._tag, "MalformedResponse")
      assert.isTrue(inBand.isRetryable)

      const limited = yield* LanguageModel.make({
        generateText: () => Effect.fail(rateLimited),
        streamText: () => Stream.fail(rateLimited)
      })
      const service = ChatModel.fromLanguageModel(limited, { provider: "backup" })
      for (const exit of [
        yield* Effect.exit(Stream.runDrain(service.stream(request))),
        yield* Effect.exit(Effect.asVoid(service.complete(request)))
      ]) {
        const error = failureOf(exit)
        assert.strictEqual(error._tag, "RateLimited")
        assert.strictEqual(error.provider, "backup")
        assert.strictEqual(Duration.toMillis(error.retryAfter!), 1500)
      }
    })
  )

  it.effect("complete folds the generateText response", () =>
    Effect.gen(function* () {
      const { model } = yield* fakeModel(() => [
        { type: "text", text: "At 14:05." },
        { type: "tool-call", id: "call_2", name: "get_tide", params: { harbour: "Roscoff" } },
        { type: "finish", reason: "tool-calls", usage }
      ])
      const completion = yield* ChatModel.fromLanguageModel(model).complete(request)
      assert.deepStrictEqual(completion, {
        text: "At 14:05.",
        finishReason: "tool-calls",
        toolCalls: [{ id: "call_2", name: "get_tide", arguments: '{"harbour":"Roscoff"}' }],
        usage: { inputTokens: 9, outputTokens: 4, totalTokens: 13 },
        model: "m"
      })
    })
  )

  it.effect("is a fallback target that continues a broken answer exactly once", () =>
    Effect.gen(function* () {
      const { model, seen } = yield* fakeModel((options) => {
        const last = options.prompt.content.at(-1)
        const prefix =
          last?.role === "assistant"
            ? last.content.map((part) => (part.type === "text" ? part.text : "")).join("")
            : ""
        return [
          { type: "text-delta", id: "t", delta: answer.slice(prefix.length) },
          { type: "finish", reason: "stop", usage }
        ]
      })
      const policy = {
        retry: { maxRetries: 0 },
        fallback: [
          FallbackStep.chatModel(
            "effect-ai",
            LanguageModelChatModel.layer().pipe(
              Layer.provide(Layer.succeed(LanguageModel.LanguageModel, model))
            )
          )
        ]
      }
      const primary = ScriptedChatModel.layer({
        script: [
          ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), {
            failAt: {
              index: 4,
              error: new ChatError.StreamTruncated({
                provider: "scripted",
                model: "m",
                message: "reset",
                delivered: ""
              })
            }
          })
        ]
      })
      const events = yield* Effect.gen(function* () {
        const chat = yield* ResilientChat.ResilientChat
        const fiber = yield* chat
          .stream({ model: "m", messages: [{ role: "user", content: "hi" }] })
          .pipe(Stream.runCollect, Effect.forkChild)
        yield* TestClock.adjust("1 minute")
        return yield* Fiber.join(fiber)
      }).pipe(Effect.provide(ResilientChat.layer(policy).pipe(Layer.provide(primary))))
      const text = events.flatMap((event) => (event.type === "text-delta" ? [event.delta] : [])).join("")
      assert.strictEqual(text, answer)
      assert.deepStrictEqual(
        events.filter((event) => event.type === "fallback").map((event) => event.step),
        ["chat-model:effect-ai"]
      )
      assert.strictEqual(seen.length, 1)
      assert.strictEqual(seen[0]?.prompt.content.at(-1)?.role, "assistant")
    })
  )
})

const rateLimited = AiError.make({
  module: "Fake",
  method: "streamText",
  reason: new AiError.RateLimitError({ retryAfter: Duration.millis(1500) })
})

/** A message as its role and text (or the types of its parts). */
const summary = (message: Prompt.Message): readonly [string, string] =>
  message.role === "system"
    ? [message.role, message.content]
    : [message.role, message.content.map((part) => (part.type === "text" ? part.text : part.type)).join("|")]
