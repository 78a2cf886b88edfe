import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import OpenAI from "openai"
import * as FakeOpenAiServer from "../../src/testing/FakeOpenAiServer.ts"
import * as FakeScenario from "../../src/testing/FakeScenario.ts"
import { apiKey, text } from "../fixtures.ts"

// The official SDK against the fake's Responses API: what the SDK parses is what the real API sends.
const client = (server: FakeOpenAiServer.Service) =>
  new OpenAI({ apiKey, baseURL: server.url, maxRetries: 0 })

const input = [{ role: "user" as const, content: "Tell me about the sea" }]

/** Creates a streamed background response, reads it up to an event of type `until`; its id. */
const backgroundId = async (sdk: OpenAI, until: string) => {
  const created = await sdk.responses.create({ model: "gpt-fake", input, stream: true, background: true })
  let id = ""
  for await (const event of created) {
    if (event.type === "response.created") id = event.response.id
    if (event.type === until) break
  }
  return id
}

describe("FakeOpenAiServer: the Responses API", () => {
  it.live("streams a background response the SDK reads event by event, with sequence numbers", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({ apiKey })
      const events = yield* Effect.promise(async () => {
        const stream = await client(server).responses.create({
          model: "gpt-fake",
          input,
          stream: true,
          background: true,
          store: true
        })
        const out: Array<{ type: string; sequence_number: number; delta?: string }> = []
        for await (const event of stream) out.push(event as never)
        return out
      })
      assert.strictEqual(events[0]?.type, "response.created")
      assert.strictEqual(events.at(-1)?.type, "response.completed")
      assert.deepStrictEqual(
        events.map((e) => e.sequence_number),
        events.map((_, i) => i)
      )
      const deltas = events.flatMap((e) => (e.type === "response.output_text.delta" ? [e.delta] : []))
      assert.strictEqual(deltas.join(""), text)
    })
  )

  it.live("retrieve with starting_after streams only the later events of a stored response", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({ apiKey })
      const sdk = client(server)
      const { id, later } = yield* Effect.promise(async () => {
        const id = await backgroundId(sdk, "response.completed")
        const again = await sdk.responses.retrieve(id, { stream: true, starting_after: 5 })
        const later: Array<number> = []
        for await (const event of again) later.push(event.sequence_number)
        return { id, later }
      })
      assert.match(id, /^resp_/)
      assert.strictEqual(later[0], 6)
      const resume = (yield* server.requests).find((r) => r.method === "GET")
      assert.deepInclude(resume?.query, { stream: "true", starting_after: "5" })
    })
  )

  it.live("answers a non-streaming request with the completed response object", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({ apiKey })
      const response = yield* Effect.promise(() =>
        client(server).responses.create({ model: "gpt-fake", input })
      )
      assert.strictEqual(response.status, "completed")
      assert.strictEqual(response.output_text, text)
    })
  )

  it.live(
    "cancels a background generation; refuses resume and cancel of a foreground one; 404 for unknown ids",
    () =>
      Effect.gen(function* () {
        const server = yield* FakeOpenAiServer.make({
          apiKey,
          steps: [FakeScenario.answer({ delay: "30 millis" }), FakeScenario.answer()]
        })
        const sdk = client(server)
        const outcome = yield* Effect.promise(async () => {
          const id = await backgroundId(sdk, "response.output_text.delta")
          const cancelled = await sdk.responses.cancel(id)
          const foreground = await sdk.responses.create({ model: "gpt-fake", input })
          const status = (promise: Promise<unknown>) =>
            promise.then(
              () => 200,
              (error: { status?: number }) => error.status
            )
          return {
            cancelled: cancelled.status,
            stored: (await sdk.responses.retrieve(id)).status,
            resumeForeground: await status(sdk.responses.retrieve(foreground.id, { stream: true })),
            cancelForeground: await status(sdk.responses.cancel(foreground.id)),
            unknown: await status(sdk.responses.retrieve("resp_nope"))
          }
        })
        assert.deepStrictEqual(outcome, {
          cancelled: "cancelled",
          stored: "cancelled",
          resumeForeground: 400,
          cancelForeground: 400,
          unknown: 404
        })
      })
  )

  it.live("validates the request: background without store is refused, input is required", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({ apiKey })
      const statuses = yield* Effect.promise(async () => {
        const sdk = client(server)
        const status = (body: object) =>
          sdk.responses.create(body as never).then(
            () => 200,
            (error: { status?: number; param?: string }) => `${error.status} ${error.param}`
          )
        return [
          await status({ model: "gpt-fake", input, background: true, store: false }),
          await status({ model: "gpt-fake" })
        ]
      })
      assert.deepStrictEqual(statuses, ["400 store", "400 input"])
    })
  )
})
