import { assert, describe, it } from "@effect/vitest"
import { ResilientChat } from "@steadystream/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as OpenAiChatModel from "../src/OpenAiChatModel.ts"
import * as FakeOpenAiServer from "../src/testing/FakeOpenAiServer.ts"
import * as FakeScenario from "../src/testing/FakeScenario.ts"
import { apiKey, request, text, words } from "./fixtures.ts"

// The whole stack over real HTTP: ResilientChat → OpenAiChatModel → openai SDK → FakeOpenAiServer.
describe("OpenAiChatModel under ResilientChat", () => {
  it.live(
    "a 429, then a reset mid-answer, then a continuation with overlap: every character exactly once",
    () =>
      Effect.gen(function* () {
        const server = yield* FakeOpenAiServer.make({
          apiKey,
          steps: [
            FakeScenario.rateLimited(FakeScenario.retryAfterMillis(30)),
            FakeScenario.resetAfter(5),
            FakeScenario.answer({ overlap: { words: 2 } })
          ]
        })
        const events = yield* ResilientChat.ResilientChat.use((chat) =>
          Stream.runCollect(chat.stream(request))
        ).pipe(
          Effect.provide(
            ResilientChat.layer({ retry: { baseDelay: "10 millis", maxDelay: "100 millis" } }).pipe(
              Layer.provide(OpenAiChatModel.layer({ apiKey: Redacted.make(apiKey), baseURL: server.url }))
            )
          )
        )
        const delivered = events.map((event) => (event.type === "text-delta" ? event.delta : "")).join("")
        assert.strictEqual(delivered, text)
        assert.deepStrictEqual(
          events.filter((event) => event.type === "retrying").map((event) => event.error._tag),
          ["RateLimited", "StreamTruncated"]
        )
        assert.strictEqual(events.filter((event) => event.type === "finish").length, 1)
        const recorded = yield* server.requests
        assert.strictEqual(recorded.length, 3)
        assert.strictEqual(recorded[2]!.continuedFrom, words(5))
      })
  )
})
