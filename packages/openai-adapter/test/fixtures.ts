/**
 * Shared test fixtures: a fake server with a recognisable key, the adapter
 * pointed at it, and small helpers to run streams.
 */
import { assert } from "@effect/vitest"
import { ChatError, type ChatModel, type ChatRequest, type ModelEvent } from "@steadystream/core"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as OpenAiChatModel from "../src/OpenAiChatModel.ts"
import * as OpenAiClient from "../src/OpenAiClient.ts"
import * as FakeOpenAiServer from "../src/testing/FakeOpenAiServer.ts"
import { defaultText } from "../src/testing/FakeScenario.ts"

/** A key nobody could mistake for anything else. */
export const apiKey = "sk-steadystream-TEST-KEY-6f1d2c9a8b7e"

export const text = defaultText

/** The first `n` word chunks of `text`, as the fake server sends them. */
export const words = (n: number, of: string = text): string =>
  (of.match(/\S+\s*/g) ?? []).slice(0, n).join("")

export const request: ChatRequest.ChatRequest = {
  model: "gpt-fake",
  messages: [{ role: "user", content: "Tell me about foxes" }]
}

/** A fake server (short keep-alive interval) and the adapter pointed at it. */
export const setup = Effect.fnUntraced(function* (
  options: FakeOpenAiServer.Options = {},
  clientOptions: Partial<OpenAiClient.Options> = {}
) {
  const server = yield* FakeOpenAiServer.make({ apiKey, keepAlive: "20 millis", ...options })
  const model = yield* OpenAiChatModel.make().pipe(
    Effect.provide(
      OpenAiClient.layer({ apiKey: Redacted.make(apiKey), baseURL: server.url, ...clientOptions })
    )
  )
  return { server, model }
})

/** Runs a stream to its end, keeping the events seen before any failure. */
export const run = (model: ChatModel.Service, req: ChatRequest.ChatRequest = request) =>
  Effect.gen(function* () {
    const events: Array<ModelEvent.ModelEvent> = []
    const exit = yield* model.stream(req).pipe(
      Stream.runForEach((event) => Effect.sync(() => events.push(event))),
      Effect.exit
    )
    const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail")?.error : undefined
    if (Exit.isFailure(exit) && error === undefined)
      assert.fail(`stream died or was interrupted: ${String(exit.cause)}`)
    return { events, error, text: textOf(events) }
  })

/** The concatenated text deltas. */
export const textOf = (events: ReadonlyArray<ModelEvent.ModelEvent>): string =>
  events.map((event) => (event.type === "text-delta" ? event.delta : "")).join("")

/** Asserts that the key appears neither in the message nor in the encoded error. */
export const assertNoKey = (error: ChatError.ChatError): void => {
  assert.notInclude(error.message, apiKey)
  assert.notInclude(JSON.stringify(ChatError.encode(error)), apiKey)
  assert.notInclude(String(error), apiKey)
}

/** Fails the test unless `error` is present and has the tag; returns it narrowed. */
export const expectTag = <T extends ChatError.Tag>(
  error: ChatError.ChatError | undefined,
  tag: T
): Extract<ChatError.ChatError, { _tag: T }> => {
  assert.isDefined(error, `expected a ${tag} failure, got success`)
  assert.strictEqual(error!._tag, tag, error!.message)
  assertNoKey(error!)
  return error as Extract<ChatError.ChatError, { _tag: T }>
}
