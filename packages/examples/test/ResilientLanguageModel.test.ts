// effect/ai programs over real HTTP: LanguageModel.streamText, generateText, Chat and a toolkit, through
// ResilientLanguageModel → ResilientChat → the OpenAI adapter → FakeOpenAiServer with scripted faults.
import { assert, describe, it } from "@effect/vitest"
import { ResilientChat, ResilientLanguageModel } from "@steadystream/core"
import { OpenAiChatModel } from "@steadystream/openai-adapter"
import { FakeOpenAiServer, FakeScenario } from "@steadystream/openai-adapter/testing"
import { AiError, Chat, LanguageModel, type Prompt, type Response, Tool, Toolkit } from "effect/ai"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

const apiKey = "sk-effect-ai-secret-4242"

/** A LanguageModel over the whole stack, pointed at `server`. */
const modelOf = (server: FakeOpenAiServer.Service) =>
  ResilientLanguageModel.layer({ model: "gpt-fake" }).pipe(
    Layer.provide(ResilientChat.layer({ retry: { baseDelay: "20 millis" } })),
    Layer.provide(OpenAiChatModel.layer({ apiKey: Redacted.make(apiKey), baseURL: server.url }))
  )

const chatCalls = (server: FakeOpenAiServer.Service) =>
  Effect.map(server.requests, (requests) => requests.filter((r) => r.path === "/v1/chat/completions"))

/** The parts of a recorded Chat Completions request body these tests read. */
interface WireBody {
  readonly messages: ReadonlyArray<{
    readonly role: string
    readonly content: string
    readonly tool_call_id?: string
  }>
  readonly tools?: ReadonlyArray<{
    readonly function: { readonly name: string; readonly parameters: object }
  }>
}
const bodyOf = (request: FakeOpenAiServer.RecordedRequest) => request.body as WireBody

const textOf = (parts: ReadonlyArray<Response.AnyPart>) =>
  parts.flatMap((part) => (part.type === "text-delta" ? [part.delta] : [])).join("")

/** The history as [role, text] pairs (tool calls and results by their type). */
const historyOf = (prompt: Prompt.Prompt) =>
  prompt.content.map((message) => [
    message.role,
    message.role === "system"
      ? message.content
      : message.content.map((part) => (part.type === "text" ? part.text : part.type)).join("|")
  ])

const turn1 = "The sea covers about seventy percent of the Earth."
const turn2 =
  "Beneath the waves lie mountain ranges longer than any on land, and trenches deeper than Everest."

describe("effect/ai over ResilientLanguageModel, against a fake OpenAI server", () => {
  it.live("streamText gives the exact answer through a connection reset mid-answer", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({ steps: [FakeScenario.resetAfter(5)] })
      const parts = yield* LanguageModel.streamText({ prompt: "Tell me about the sea" }).pipe(
        Stream.runCollect,
        Effect.provide(modelOf(server))
      )
      assert.strictEqual(textOf(parts), FakeScenario.defaultText)
      assert.deepStrictEqual(
        parts.filter((part) => part.type !== "text-delta").map((part) => part.type),
        ["text-start", "text-end", "finish"]
      )
      const calls = yield* chatCalls(server)
      assert.deepStrictEqual(
        calls.map((call) => call.outcome),
        ["Answer", "Answer"]
      )
      assert.isTrue(FakeScenario.defaultText.startsWith(calls[1]?.continuedFrom ?? "-"))
    }).pipe(Effect.scoped)
  )

  it.live("generateText answers through a 503", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({ steps: [FakeScenario.overloaded()] })
      const response = yield* LanguageModel.generateText({ prompt: "Tell me about the sea" }).pipe(
        Effect.provide(modelOf(server))
      )
      assert.strictEqual(response.text, FakeScenario.defaultText)
      assert.strictEqual(response.finishReason, "stop")
      assert.deepStrictEqual(
        (yield* chatCalls(server)).map((call) => call.outcome),
        ["HttpError", "Answer"]
      )
    }).pipe(Effect.scoped)
  )

  it.live("Chat keeps two turns, the second recovered from a reset, each answer once in the history", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({
        steps: [
          FakeScenario.answer({ text: turn1 }),
          FakeScenario.resetAfter(4, { text: turn2 }),
          FakeScenario.answer({ text: turn2 })
        ]
      })
      const { first, second, history } = yield* Effect.gen(function* () {
        const chat = yield* Chat.empty
        const first = yield* chat.generateText({ prompt: "How much of the Earth does the sea cover?" })
        const second = yield* chat.streamText({ prompt: "And what lies beneath?" }).pipe(Stream.runCollect)
        return { first, second, history: yield* Ref.get(chat.history) }
      }).pipe(Effect.provide(modelOf(server)))
      assert.strictEqual(first.text, turn1)
      assert.strictEqual(textOf(second), turn2)
      assert.deepStrictEqual(historyOf(history), [
        ["user", "How much of the Earth does the sea cover?"],
        ["assistant", turn1],
        ["user", "And what lies beneath?"],
        ["assistant", turn2]
      ])
      const [, secondTurn] = (yield* chatCalls(server)).map(bodyOf)
      assert.deepStrictEqual(
        secondTurn?.messages.map((message) => [message.role, message.content]),
        historyOf(history).slice(0, 3)
      )
    }).pipe(Effect.scoped)
  )

  it.live("a tool call round trip: the call is streamed, the toolkit runs it, the result goes back", () =>
    Effect.gen(function* () {
      const GetTide = Tool.make("get_tide", {
        description: "The time of high tide at a harbour",
        parameters: Schema.Struct({ harbour: Schema.String }),
        success: Schema.String
      })
      const Tides = Toolkit.make(GetTide)
      const asked: Array<string> = []
      const handlers = Tides.toLayer({
        get_tide: ({ harbour }) => Effect.sync(() => asked.push(harbour)).pipe(Effect.as("14:05"))
      })
      const server = yield* FakeOpenAiServer.make({
        steps: [
          FakeScenario.answer({
            text: "",
            toolCalls: [{ id: "call_tide", name: "get_tide", arguments: '{"harbour":"Brest"}' }]
          }),
          FakeScenario.answer({ text: "High tide in Brest is at 14:05." })
        ]
      })
      const { first, second } = yield* Effect.gen(function* () {
        const chat = yield* Chat.empty
        const first = yield* chat
          .streamText({ prompt: "When is high tide in Brest?", toolkit: Tides })
          .pipe(Stream.runCollect)
        const second = yield* chat.generateText({ prompt: [], toolkit: Tides })
        return { first, second }
      }).pipe(Effect.provide(Layer.merge(modelOf(server), handlers)))

      const call = first.find((part) => part.type === "tool-call")
      const result = first.find((part) => part.type === "tool-result")
      assert.deepStrictEqual(
        [call?.id, call?.name, call?.params],
        ["call_tide", "get_tide", { harbour: "Brest" }]
      )
      assert.strictEqual(result?.result, "14:05")
      assert.deepStrictEqual(asked, ["Brest"])
      assert.strictEqual(second.text, "High tide in Brest is at 14:05.")

      const [offer, answer] = (yield* chatCalls(server)).map(bodyOf)
      assert.deepStrictEqual(
        offer?.tools?.map((tool) => tool.function.name),
        ["get_tide"]
      )
      assert.deepInclude(offer?.tools?.[0]?.function.parameters, { type: "object", required: ["harbour"] })
      assert.deepStrictEqual(answer?.messages.at(-1), {
        role: "tool",
        content: "14:05",
        tool_call_id: "call_tide"
      })
    }).pipe(Effect.scoped)
  )

  it.live("a 401 arrives once as an AiError that is not retryable, without the key", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({ steps: [], fallback: FakeScenario.unauthorized })
      const model = modelOf(server)
      const streamed = yield* LanguageModel.streamText({ prompt: "hi" }).pipe(
        Stream.runDrain,
        Effect.flip,
        Effect.provide(model)
      )
      const generated = yield* LanguageModel.generateText({ prompt: "hi" }).pipe(
        Effect.flip,
        Effect.provide(model)
      )
      for (const error of [streamed, generated]) {
        assert.isTrue(AiError.isAiError(error))
        assert.strictEqual(error.reason._tag, "AuthenticationError")
        assert.isFalse(error.isRetryable)
        assert.notInclude(`${error.message} ${JSON.stringify(error)}`, apiKey)
      }
      assert.strictEqual((yield* chatCalls(server)).length, 2, "one call each, never retried")
    }).pipe(Effect.scoped)
  )
})
