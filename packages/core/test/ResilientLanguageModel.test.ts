import { assert, describe, it } from "@effect/vitest"
import * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Prompt from "effect/ai/Prompt"
import type * as Response from "effect/ai/Response"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as ChatError from "../src/ChatError.ts"
import * as ChatRequest from "../src/ChatRequest.ts"
import type * as ModelEvent from "../src/ModelEvent.ts"
import type * as ResiliencePolicy from "../src/ResiliencePolicy.ts"
import * as ResilientChat from "../src/ResilientChat.ts"
import * as ResilientLanguageModel from "../src/ResilientLanguageModel.ts"
import * as ScriptedChatModel from "../src/testing/ScriptedChatModel.ts"

const meta = { provider: "scripted", model: "m" }
const answer = "The quick brown fox jumps over the lazy dog"
const cut = () => new ChatError.StreamTruncated({ ...meta, message: "connection reset", delivered: "" })
const noJitter: ResiliencePolicy.ResiliencePolicy = { retry: { jitter: false } }

const GetTide = Tool.make("get_tide", {
  description: "The time of high tide at a harbour",
  parameters: Schema.Struct({ harbour: Schema.String }),
  success: Schema.String
})
const Tides = Toolkit.make(GetTide)
const TideHandlers = Tides.toLayer({
  get_tide: ({ harbour }) => Effect.succeed(`High tide at ${harbour}: 14:05`)
})

const setup = (script: ScriptedChatModel.Script, policy = noJitter) =>
  ResilientLanguageModel.layer({ model: "m", temperature: 0.2 }).pipe(
    Layer.provide(ResilientChat.layer(policy)),
    Layer.provideMerge(ScriptedChatModel.layer({ script })),
    Layer.merge(TideHandlers)
  )

/** Runs `effect` under TestClock: fork, advance past every backoff, join. */
const settle = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const fiber = yield* effect.pipe(Effect.exit, Effect.forkChild)
    yield* TestClock.adjust("10 minutes")
    return yield* Fiber.join(fiber)
  })

const calls = Effect.flatMap(ScriptedChatModel.ScriptedChatModel, (recorder) => recorder.calls)

const success = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isSuccess(exit)) return exit.value
  throw new Error(`expected success, got ${String(exit.cause)}`)
}

const aiError = <A, E>(exit: Exit.Exit<A, E>): AiError.AiError => {
  const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
  if (error?._tag === "Fail" && AiError.isAiError(error.error)) return error.error
  throw new Error(`expected an AiError, got ${String(Exit.isFailure(exit) ? exit.cause : "success")}`)
}

const textOf = (parts: ReadonlyArray<Response.AnyPart>) =>
  parts.flatMap((part) => (part.type === "text-delta" ? [part.delta] : [])).join("")

const streamText = (prompt: Prompt.RawInput) =>
  LanguageModel.streamText({ prompt }).pipe(Stream.runCollect, settle)

/** Answers a continuation with the rest of `text` after the assistant prefix. */
const continuing = (text: string) => (call: { readonly request: ChatRequest.ChatRequest }) =>
  ScriptedChatModel.stream(
    ScriptedChatModel.textEvents(text.slice((ChatRequest.assistantPrefix(call.request) ?? "").length))
  )

describe("ResilientLanguageModel", () => {
  describe("prompts", () => {
    it.effect("sends system, user, assistant and tool messages, the tools and the options", () =>
      Effect.gen(function* () {
        const prompt = Prompt.make([
          { role: "system", content: "Be brief." },
          {
            role: "user",
            content: [
              { type: "text", text: "When is high tide" },
              { type: "text", text: "in Brest?" }
            ]
          },
          {
            role: "assistant",
            content: [
              { type: "reasoning", text: "I should ask the tool." },
              { type: "text", text: "Let me check." },
              { type: "tool-call", id: "call_1", name: "get_tide", params: { harbour: "Brest" } }
            ]
          },
          {
            role: "tool",
            content: [
              {
                type: "tool-result",
                id: "call_1",
                name: "get_tide",
                isFailure: false,
                result: { at: "14:05" }
              }
            ]
          }
        ])
        success(yield* LanguageModel.generateText({ prompt, toolkit: Tides }).pipe(settle))
        const [call] = yield* calls
        assert.deepStrictEqual(call?.request.messages, [
          { role: "system", content: "Be brief." },
          { role: "user", content: "When is high tide\nin Brest?" },
          { role: "assistant", content: "Let me check." },
          { role: "tool", content: '{"at":"14:05"}', toolCallId: "call_1", name: "get_tide" }
        ])
        assert.strictEqual(call?.request.temperature, 0.2)
        assert.deepStrictEqual(
          call?.request.tools?.map((tool) => [tool.name, tool.description, tool.parameters?.type]),
          [["get_tide", "The time of high tide at a harbour", "object"]]
        )
        assert.deepStrictEqual(Object.keys(call?.request.tools?.[0]?.parameters?.properties ?? {}), [
          "harbour"
        ])
      }).pipe(Effect.provide(setup([ScriptedChatModel.stream(ScriptedChatModel.textEvents("At 14:05."))])))
    )

    it.effect("sends no tools for toolChoice none, and only the named tool for { tool }", () =>
      Effect.gen(function* () {
        const Clock = Tool.make("clock", { success: Schema.String })
        const toolkit = Toolkit.make(GetTide, Clock)
        const handlers = toolkit.toLayer({
          get_tide: () => Effect.succeed(""),
          clock: () => Effect.succeed("")
        })
        const generate = (toolChoice: LanguageModel.ToolChoice<"get_tide" | "clock">) =>
          LanguageModel.generateText({ prompt: "hi", toolkit, toolChoice }).pipe(
            settle,
            Effect.provide(handlers)
          )
        success(yield* generate("none"))
        success(yield* generate({ tool: "clock" }))
        success(yield* generate("auto"))
        assert.deepStrictEqual(
          (yield* calls).map((call) => call.request.tools?.map((tool) => tool.name)),
          [undefined, ["clock"], ["get_tide", "clock"]]
        )
      }).pipe(Effect.provide(setup(() => ScriptedChatModel.stream(ScriptedChatModel.textEvents("ok")))))
    )

    it.effect("fails a file in a user message with InvalidUserInputError, before any call", () =>
      Effect.gen(function* () {
        const exit = yield* streamText([
          { role: "user", content: [{ type: "file", mediaType: "image/png", data: "iVBORw0KGgo=" }] }
        ])
        const error = aiError(exit)
        assert.strictEqual(error.reason._tag, "InvalidUserInputError")
        assert.isFalse(error.isRetryable)
        assert.strictEqual((yield* calls).length, 0)
      }).pipe(Effect.provide(setup([])))
    )
  })

  describe("streamText", () => {
    it.effect("wraps text and reasoning in blocks, assembles tool calls and ends with one finish", () =>
      Effect.gen(function* () {
        const parts = success(
          yield* LanguageModel.streamText({ prompt: "Tide in Brest?", toolkit: Tides }).pipe(
            Stream.runCollect,
            settle
          )
        )
        assert.deepStrictEqual(
          parts.map((part) => part.type),
          [
            "reasoning-start",
            "reasoning-delta",
            "reasoning-end",
            "text-start",
            "text-delta",
            "text-delta",
            "text-end",
            "tool-call",
            "tool-result",
            "finish"
          ]
        )
        assert.strictEqual(textOf(parts), "Checking the tide.")
        const call = parts.find((part) => part.type === "tool-call")
        assert.deepStrictEqual(
          [call?.id, call?.name, call?.params],
          ["call_7", "get_tide", { harbour: "Brest" }]
        )
        const result = parts.find((part) => part.type === "tool-result")
        assert.strictEqual(result?.result, "High tide at Brest: 14:05")
        const finish = parts.at(-1)
        assert.strictEqual(finish?.type === "finish" && finish.reason, "tool-calls")
        assert.deepStrictEqual(
          finish?.type === "finish" && [finish.usage.inputTokens.total, finish.usage.outputTokens.total],
          [12, 7]
        )
      }).pipe(
        Effect.provide(
          setup([
            ScriptedChatModel.stream([
              { type: "reasoning-delta", delta: "The user wants the tide." },
              { type: "text-delta", delta: "Checking " },
              { type: "text-delta", delta: "the tide." },
              { type: "tool-call-delta", index: 0, id: "call_7", name: "get_tide", argumentsDelta: '{"harb' },
              { type: "tool-call-delta", index: 0, argumentsDelta: 'our":"Brest"}' },
              {
                type: "finish",
                reason: "tool-calls",
                usage: { inputTokens: 12, outputTokens: 7, totalTokens: 19 }
              }
            ])
          ])
        )
      )
    )

    it.effect("gives the exact answer once through a mid-stream failure, in one text block", () =>
      Effect.gen(function* () {
        const parts = success(yield* streamText("hi"))
        assert.strictEqual(textOf(parts), answer)
        assert.strictEqual(parts.filter((part) => part.type === "text-start").length, 1)
        assert.strictEqual(parts.filter((part) => part.type === "finish").length, 1)
        assert.strictEqual((yield* calls).length, 2)
      }).pipe(
        Effect.provide(
          setup((call) =>
            call.index === 0
              ? ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), {
                  failAt: { index: 3, error: cut() }
                })
              : continuing(answer)(call)
          )
        )
      )
    )

    it.effect("fails with the breaking error when a restart follows emitted text", () =>
      Effect.gen(function* () {
        const error = aiError(yield* streamText("hi"))
        assert.strictEqual(error.reason._tag, "InternalProviderError")
        assert.isTrue(error.isRetryable)
        assert.strictEqual(error.method, "streamText")
      }).pipe(
        Effect.provide(
          setup(
            [
              ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), {
                failAt: { index: 3, error: cut() }
              }),
              ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer))
            ],
            { ...noJitter, midStream: "restart" }
          )
        )
      )
    )

    it.effect("restarts quietly when only tool call pieces came before the restart", () => {
      const pieces: ReadonlyArray<ModelEvent.ModelEvent> = [
        { type: "tool-call-delta", index: 0, id: "call_1", name: "get_tide", argumentsDelta: '{"harbour":' },
        { type: "tool-call-delta", index: 0, argumentsDelta: '"Brest"}' },
        { type: "finish", reason: "tool-calls" }
      ]
      return Effect.gen(function* () {
        const parts = success(
          yield* LanguageModel.streamText({
            prompt: "hi",
            toolkit: Tides,
            disableToolCallResolution: true
          }).pipe(Stream.runCollect, settle)
        )
        const toolCalls = parts.filter((part) => part.type === "tool-call")
        assert.deepStrictEqual(
          toolCalls.map((part) => part.params),
          [{ harbour: "Brest" }]
        )
      }).pipe(
        Effect.provide(
          setup(
            [
              ScriptedChatModel.stream(pieces, { failAt: { index: 1, error: cut() } }),
              ScriptedChatModel.stream(pieces)
            ],
            { ...noJitter, midStream: "restart" }
          )
        )
      )
    })

    it.effect("fails a tool call whose arguments are not JSON with a retryable InvalidOutputError", () =>
      Effect.gen(function* () {
        const error = aiError(
          yield* LanguageModel.streamText({ prompt: "hi", toolkit: Tides }).pipe(Stream.runCollect, settle)
        )
        assert.strictEqual(error.reason._tag, "InvalidOutputError")
        assert.isTrue(error.isRetryable)
      }).pipe(
        Effect.provide(
          setup([
            ScriptedChatModel.stream([
              {
                type: "tool-call-delta",
                index: 0,
                id: "call_1",
                name: "get_tide",
                argumentsDelta: '{"harbour'
              },
              { type: "finish", reason: "tool-calls" }
            ])
          ])
        )
      )
    )
  })

  describe("generateText", () => {
    it.effect("answers from ResilientChat.complete through a retry", () =>
      Effect.gen(function* () {
        const response = success(yield* LanguageModel.generateText({ prompt: "hi" }).pipe(settle))
        assert.strictEqual(response.text, answer)
        assert.strictEqual(response.finishReason, "stop")
        assert.deepStrictEqual(
          (yield* calls).map((call) => call.outcome),
          ["failure", "success"]
        )
      }).pipe(
        Effect.provide(
          setup([
            ScriptedChatModel.fail(new ChatError.ServerError({ ...meta, status: 500, message: "boom" })),
            ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer))
          ])
        )
      )
    )

    it.effect("fails a non-retryable error once, as a non-retryable AiError", () =>
      Effect.gen(function* () {
        const error = aiError(yield* LanguageModel.generateText({ prompt: "hi" }).pipe(settle))
        assert.strictEqual(error.module, "ResilientLanguageModel")
        assert.strictEqual(error.method, "generateText")
        assert.strictEqual(error.reason._tag, "AuthenticationError")
        assert.isFalse(error.isRetryable)
        assert.strictEqual((yield* calls).length, 1)
      }).pipe(
        Effect.provide(
          setup([
            ScriptedChatModel.fail(
              new ChatError.AuthenticationFailed({ ...meta, status: 401, message: "bad key" })
            )
          ])
        )
      )
    )
  })
})
