import { assert, describe, it } from "@effect/vitest"
import { type ResiliencePolicy, ResilientChat, type StreamEvent } from "@steadystream/core"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as OpenAiResponsesModel from "../src/OpenAiResponsesModel.ts"
import * as FakeOpenAiServer from "../src/testing/FakeOpenAiServer.ts"
import * as FakeScenario from "../src/testing/FakeScenario.ts"
import { apiKey, request, text, words } from "./fixtures.ts"

// The whole stack over real HTTP: ResilientChat → OpenAiResponsesModel → openai SDK → FakeOpenAiServer.
const policy: ResiliencePolicy.ResiliencePolicy = {
  retry: { baseDelay: "10 millis", maxDelay: "50 millis" },
  timeouts: { idle: "300 millis" },
  circuitBreaker: false
}

const serve = (steps: ReadonlyArray<FakeScenario.Step>) =>
  FakeOpenAiServer.make({ apiKey, steps, keepAlive: "20 millis", record: { limit: 50 } })

const chat = (server: FakeOpenAiServer.Service) =>
  ResilientChat.layer(policy).pipe(
    Layer.provide(OpenAiResponsesModel.layer({ apiKey: Redacted.make(apiKey), baseURL: server.url })),
    Layer.merge(Logger.layer([]))
  )

const collect = (server: FakeOpenAiServer.Service) =>
  ResilientChat.ResilientChat.use((resilient) => Stream.runCollect(resilient.stream(request))).pipe(
    Effect.provide(chat(server))
  )

const textOf = (events: ReadonlyArray<StreamEvent.StreamEvent>) =>
  events.map((event) => (event.type === "text-delta" ? event.delta : "")).join("")

/** Each request as `METHOD path[?starting_after=N]`. */
const requestLines = (server: FakeOpenAiServer.Service) =>
  Effect.map(server.requests, (all) =>
    all.map((r) => {
      const after = r.query.starting_after
      return `${r.method} ${r.path.replace(/resp_fake_\d+/, "{id}")}${after === undefined ? "" : `?after=${after}`}`
    })
  )

/** Waits (up to 2 s) until the server has seen a cancel request. */
const awaitCancel = (server: FakeOpenAiServer.Service) =>
  server.requests.pipe(
    Effect.flatMap((all) =>
      all.some((r) => r.path.endsWith("/cancel")) ? Effect.void : Effect.fail("no cancel yet" as const)
    ),
    Effect.retry({ schedule: Schedule.spaced("20 millis"), times: 100 })
  )

describe("OpenAiResponsesModel under ResilientChat", () => {
  it.live("a cut mid-answer is resumed with starting_after: the exact text, no second generation", () =>
    Effect.gen(function* () {
      const server = yield* serve([FakeScenario.resetAfter(5, { delay: "2 millis" })])
      const events = yield* collect(server)
      assert.strictEqual(textOf(events), text)
      assert.deepStrictEqual(
        events.filter((e) => e.type === "retrying").map((e) => e.error._tag),
        ["StreamTruncated"]
      )
      const lines = yield* requestLines(server)
      assert.strictEqual(lines.filter((line) => line === "POST /v1/responses").length, 1)
      const resumes = lines.filter((line) => line.startsWith("GET /v1/responses/{id}?after="))
      assert.strictEqual(resumes.length, 1)
      const recorded = yield* server.requests
      assert.isTrue(recorded.every((r) => r.continuedFrom === undefined))
    })
  )

  it.live(
    "a stall is resumed too, and a second break during the resume resumes from a newer sequence number",
    () =>
      Effect.gen(function* () {
        const server = yield* serve([
          FakeScenario.stallAfter(3, { delay: "2 millis" }),
          FakeScenario.resetAfter(4),
          FakeScenario.answer()
        ])
        const events = yield* collect(server)
        assert.strictEqual(textOf(events), text)
        assert.deepStrictEqual(
          events.filter((e) => e.type === "retrying").map((e) => e.error._tag),
          ["Timeout", "StreamTruncated"]
        )
        const afters = (yield* server.requests).flatMap((r) =>
          r.query.starting_after === undefined ? [] : [Number(r.query.starting_after)]
        )
        assert.strictEqual(afters.length, 2)
        assert.isAbove(afters[1] ?? 0, afters[0] ?? 0)
      })
  )

  it.live("an expired resume (404) falls back to a continuation request", () =>
    Effect.gen(function* () {
      const server = yield* serve([
        FakeScenario.resetAfter(5, { delay: "2 millis" }),
        FakeScenario.resumeExpired
      ])
      const events = yield* collect(server)
      assert.strictEqual(textOf(events), text)
      const lines = yield* requestLines(server)
      assert.deepStrictEqual(
        lines.filter((line) => !line.endsWith("/cancel")),
        ["POST /v1/responses", lines[1], "POST /v1/responses"]
      )
      assert.match(lines[1] ?? "", /^GET \/v1\/responses\/\{id\}\?after=\d+$/)
      assert.strictEqual((yield* server.requests)[2]?.continuedFrom, words(5))
    })
  )

  it.live("a consumer that stops early cancels the background response", () =>
    Effect.gen(function* () {
      const server = yield* serve([FakeScenario.answer({ delay: "20 millis" })])
      const first = yield* ResilientChat.ResilientChat.use((resilient) =>
        Stream.runCollect(resilient.stream(request).pipe(Stream.take(3)))
      ).pipe(Effect.provide(chat(server)))
      assert.strictEqual(textOf(first), words(3))
      yield* awaitCancel(server)
      assert.include(yield* requestLines(server), "POST /v1/responses/{id}/cancel")
    })
  )

  it.live("an interrupted consumer cancels the background response; the interrupt does not wait for it", () =>
    Effect.gen(function* () {
      const server = yield* serve([FakeScenario.answer({ delay: "20 millis" })])
      const fiber = yield* ResilientChat.ResilientChat.use((resilient) =>
        Stream.runCollect(resilient.stream(request))
      ).pipe(Effect.provide(chat(server)), Effect.forkChild)
      yield* Effect.sleep("150 millis")
      yield* Fiber.interrupt(fiber)
      yield* awaitCancel(server)
      const id = (yield* server.requests).find((r) => r.path.endsWith("/cancel"))?.path.split("/")[3]
      const status = yield* Effect.promise(() =>
        fetch(`${server.url}/responses/${id}`, { headers: { authorization: `Bearer ${apiKey}` } }).then(
          (response) => response.json() as Promise<{ status: string }>
        )
      )
      assert.strictEqual(status.status, "cancelled")
    })
  )

  it.live("a generation that fails in-band is not resumed: it is continued by a new request", () =>
    Effect.gen(function* () {
      const server = yield* serve([FakeScenario.errorFrameAfter(4, undefined, { delay: "2 millis" })])
      const events = yield* collect(server)
      assert.strictEqual(textOf(events), text)
      const lines = (yield* requestLines(server)).filter((line) => !line.endsWith("/cancel"))
      assert.deepStrictEqual(lines, ["POST /v1/responses", "POST /v1/responses"])
    })
  )
})
