import { assert, describe, it } from "@effect/vitest"
import { ChatModel, type ModelEvent } from "@steadystream/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as OpenAiClient from "../src/OpenAiClient.ts"
import * as OpenAiResponsesModel from "../src/OpenAiResponsesModel.ts"
import * as FakeOpenAiServer from "../src/testing/FakeOpenAiServer.ts"
import * as FakeScenario from "../src/testing/FakeScenario.ts"
import { apiKey, expectTag, request, run, text, words } from "./fixtures.ts"

/** A fake server and the Responses adapter pointed at it. */
const setup = Effect.fnUntraced(function* (
  options: FakeOpenAiServer.Options = {},
  adapter: { readonly background?: boolean } = {}
) {
  const server = yield* FakeOpenAiServer.make({
    apiKey,
    keepAlive: "20 millis",
    record: { limit: 50 },
    ...options
  })
  const model = yield* OpenAiResponsesModel.make(adapter).pipe(
    Effect.provide(OpenAiClient.layer({ apiKey: Redacted.make(apiKey), baseURL: server.url }))
  )
  return { server, model }
})

const checkpoints = (events: ReadonlyArray<ModelEvent.ModelEvent>) =>
  events.flatMap((event) => (event.type === "checkpoint" ? [event.cursor] : []))

describe("OpenAiResponsesModel", () => {
  it.live("streams an answer in background mode, with checkpoints and one finish with usage", () =>
    Effect.gen(function* () {
      // A slow drip, so that the answer arrives in several body reads.
      const { server, model } = yield* setup({ steps: [FakeScenario.answer({ delay: "2 millis" })] })
      const { events, error, text: got } = yield* run(model)
      assert.isUndefined(error)
      assert.strictEqual(got, text)
      const finish = events.at(-1)
      assert.strictEqual(finish?.type, "finish")
      if (finish?.type === "finish") {
        assert.strictEqual(finish.reason, "stop")
        assert.isDefined(finish.usage)
      }
      const cursors = checkpoints(events)
      assert.isAbove(cursors.length, 0)
      assert.isTrue(cursors.every((cursor) => cursor.id === "resp_fake_000001"))
      const sequences = cursors.map((cursor) => cursor.sequence)
      assert.deepStrictEqual(
        sequences,
        [...new Set(sequences)].sort((a, b) => a - b)
      )
      const [post] = yield* server.requests
      assert.strictEqual(post?.path, "/v1/responses")
      const body = post?.body as Record<string, unknown>
      assert.deepInclude(body, { stream: true, background: true, store: true })
      assert.isDefined(model.resumable)
    })
  )

  it.live("maps function calls: call id and name once, then the arguments", () =>
    Effect.gen(function* () {
      const call = { id: "call_1", name: "tides", arguments: '{"port":"Brest","days":3}' }
      const { model } = yield* setup({ steps: [FakeScenario.answer({ text: "", toolCalls: [call] })] })
      const { events, error } = yield* run(model)
      assert.isUndefined(error)
      const deltas = events.flatMap((event) => (event.type === "tool-call-delta" ? [event] : []))
      assert.strictEqual(deltas[0]?.id, "call_1")
      assert.strictEqual(deltas[0]?.name, "tides")
      assert.strictEqual(deltas.map((delta) => delta.argumentsDelta).join(""), call.arguments)
      const finish = events.at(-1)
      assert.strictEqual(finish?.type === "finish" ? finish.reason : undefined, "tool-calls")
    })
  )

  it.live("a body cut before the terminal event is StreamTruncated; resume streams exactly the rest", () =>
    Effect.gen(function* () {
      const { server, model } = yield* setup({ steps: [FakeScenario.resetAfter(5)] })
      const first = yield* run(model)
      expectTag(first.error, "StreamTruncated")
      assert.strictEqual(first.text, words(5))
      const cursor = checkpoints(first.events).at(-1)
      assert.isDefined(cursor)
      if (cursor === undefined || model.resumable === undefined) return
      const rest = yield* Stream.runCollect(model.resumable.resume(cursor, request))
      assert.strictEqual(
        first.text + rest.map((e) => (e.type === "text-delta" ? e.delta : "")).join(""),
        text
      )
      const get = (yield* server.requests).find((r) => r.method === "GET")
      assert.strictEqual(get?.path, `/v1/responses/${cursor.id}`)
      assert.deepInclude(get?.query, { stream: "true", starting_after: String(cursor.sequence) })
    })
  )

  it.live("maps an in-band error to a typed error, a 429 to RateLimited", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({
        steps: [FakeScenario.errorFrameAfter(3), FakeScenario.rateLimited(FakeScenario.retryAfterSeconds(2))]
      })
      const failed = yield* run(model)
      expectTag(failed.error, "ServerError")
      assert.strictEqual(failed.text, words(3))
      const limited = expectTag((yield* run(model)).error, "RateLimited")
      assert.strictEqual(
        limited.retryAfter === undefined ? undefined : Duration.toMillis(limited.retryAfter),
        2000
      )
    })
  )

  it.live(
    "an unknown response and a non-background one cannot be resumed (404 NotFound, 400 InvalidRequest)",
    () =>
      Effect.gen(function* () {
        const { server, model } = yield* setup({}, { background: false })
        assert.isUndefined(model.resumable)
        assert.isUndefined((yield* run(model)).error)
        assert.notInclude(Object.keys((yield* server.requests)[0]?.body as object), "background")
        const resumer = yield* OpenAiResponsesModel.make().pipe(
          Effect.provide(OpenAiClient.layer({ apiKey: Redacted.make(apiKey), baseURL: server.url }))
        )
        const resume = (id: string) =>
          Effect.flip(
            Stream.runCollect(resumer.resumable?.resume({ id, sequence: 3 }, request) ?? Stream.empty)
          )
        expectTag(yield* resume("resp_fake_000001"), "InvalidRequest")
        expectTag(yield* resume("resp_unknown"), "NotFound")
      })
  )

  it.live("bad JSON and an event of the wrong shape are MalformedResponse, after the text before them", () =>
    Effect.gen(function* () {
      const { model } = yield* setup({
        steps: [
          FakeScenario.malformedAfter(2),
          FakeScenario.malformedAfter(2, { data: '{"type":"response.output_text.delta","delta":42}' })
        ]
      })
      for (let i = 0; i < 2; i++) {
        const { error, text: got } = yield* run(model)
        expectTag(error, "MalformedResponse")
        assert.strictEqual(got, words(2))
      }
    })
  )

  it.live("complete answers without streaming", () =>
    Effect.gen(function* () {
      const { server, model } = yield* setup()
      const completion = yield* model.complete(request)
      assert.strictEqual(completion.text, text)
      assert.strictEqual(completion.finishReason, "stop")
      assert.isDefined(completion.usage)
      const [post] = yield* server.requests
      assert.notInclude(Object.keys(post?.body as object), "background")
    })
  )

  it.live("cancel stops a background generation: POST /v1/responses/{id}/cancel", () =>
    Effect.gen(function* () {
      const { server, model } = yield* setup({ steps: [FakeScenario.answer({ delay: "20 millis" })] })
      const first = yield* model.stream(request).pipe(Stream.take(3), Stream.runCollect)
      const cursor = checkpoints(first).at(-1)
      if (cursor === undefined || model.resumable === undefined) return assert.fail("no cursor")
      yield* model.resumable.cancel(cursor)
      const cancel = (yield* server.requests).find((r) => r.path.endsWith("/cancel"))
      assert.strictEqual(cancel?.path, `/v1/responses/${cursor.id}/cancel`)
      assert.strictEqual(cancel?.method, "POST")
    })
  )

  it.live("layer: the adapter and its client, resumable by default", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({ apiKey })
      const got = yield* ChatModel.ChatModel.use((model) =>
        Effect.map(run(model), (result) => ({ text: result.text, resumable: model.resumable !== undefined }))
      ).pipe(
        Effect.provide(OpenAiResponsesModel.layer({ apiKey: Redacted.make(apiKey), baseURL: server.url }))
      )
      assert.deepStrictEqual(got, { text, resumable: true })
    })
  )
})
