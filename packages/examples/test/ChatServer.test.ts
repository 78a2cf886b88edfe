import { assert, describe, it } from "@effect/vitest"
import { ChatError } from "@steadystream/core"
import { FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Effect from "effect/Effect"
import type * as AccessLog from "../src/AccessLog.ts"
import * as AnswerStore from "../src/AnswerStore.ts"
import { get, openAnswer, parseSse, post, startExample, upstreamCancelled } from "./example.ts"

const textOf = (frames: ReturnType<typeof parseSse>) =>
  frames
    .filter(([name]) => name === "text-delta")
    .map(([, data]) => data.delta)
    .join("")

/** Waits (bounded) until `count` access-log lines are in: a line is written once its response is over. */
const untilLines = (lines: ReadonlyArray<string>, count: number) =>
  Effect.sleep("10 millis").pipe(
    Effect.repeat({ until: () => lines.length >= count }),
    Effect.timeout("2 seconds")
  )

describe("ChatServer", () => {
  it.live(
    "re-streams a recovered answer as SSE: exactly the text, the recovery with its status, a summary",
    () =>
      Effect.gen(function* () {
        const { url } = yield* startExample(FakeScenario.named.flaky)
        const response = yield* post(`${url}/api/chat`, JSON.stringify({ prompt: "Tell me about the sea" }))
        assert.strictEqual(response.status, 200)
        assert.strictEqual(response.type, "text/event-stream")
        const frames = parseSse(response.text)
        assert.strictEqual(textOf(frames), FakeScenario.defaultText)
        const recoveries = frames.filter(([name]) => name === "retrying").map(([, data]) => data)
        assert.deepStrictEqual(
          recoveries.map((data) => (data.error as { _tag: string })._tag),
          ["RateLimited", "StreamTruncated"]
        )
        assert.strictEqual(recoveries[0]?.status, "rate limited, retrying in 1.0 s (attempt 2/5)")
        assert.match(
          String(recoveries[1]?.status),
          /^connection lost after \d+ chars, continuing in \d+ ms \(attempt 3\/5\)$/
        )
        assert.strictEqual(recoveries[0]?.delay, 1000)
        assert.deepStrictEqual(
          frames.slice(-2).map(([name]) => name),
          ["finish", "summary"]
        )
        assert.match(
          String(frames.at(-1)?.[1].summary),
          new RegExp(`^3 attempts · 0 fallbacks · .* · ${[...FakeScenario.defaultText].length} chars · ok in`)
        )
      }).pipe(Effect.scoped)
  )

  it.live("accepts a whole conversation", () =>
    Effect.gen(function* () {
      const { url, fake } = yield* startExample({ text: "Yes." })
      const messages = [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Is the sea big?" }
      ]
      const response = yield* post(`${url}/api/chat`, JSON.stringify({ messages }))
      assert.strictEqual(textOf(parseSse(response.text)), "Yes.")
      const requests = yield* fake.requests
      const chat = requests.find((request) => request.path === "/v1/chat/completions")
      assert.deepStrictEqual((chat?.body as { messages?: unknown } | undefined)?.messages, messages)
    }).pipe(Effect.scoped)
  )

  it.live("ends a failed call with an error frame that decodes to the typed ChatError", () =>
    Effect.gen(function* () {
      const { url } = yield* startExample(FakeScenario.named.quota)
      const frames = parseSse((yield* post(`${url}/api/chat`, JSON.stringify({ prompt: "hi" }))).text)
      assert.deepStrictEqual(
        frames.map(([name]) => name),
        ["error", "summary"]
      )
      const error = ChatError.decode(frames[0]?.[1].error)
      assert.strictEqual(error._tag, "QuotaExceeded")
      assert.match(String(frames[0]?.[1].message), /^quota exceeded: /)
      assert.include(String(frames[1]?.[1].summary), "failed: QuotaExceeded")
    }).pipe(Effect.scoped)
  )

  it.live("says an open breaker made no call and when it lets calls through, and counts no attempt", () =>
    Effect.gen(function* () {
      const { url } = yield* startExample(FakeScenario.named.outage, {
        retry: { maxRetries: 0 },
        circuitBreaker: { failures: 1, openFor: "30 seconds" }
      })
      const ask = () =>
        Effect.map(post(`${url}/api/chat`, JSON.stringify({ prompt: "hi" })), (r) => parseSse(r.text))
      // The first call fails for real (503), which opens the breaker before its fallback step.
      const first = yield* ask()
      assert.match(String(first.at(-1)?.[1].summary), /^1 attempt · 1 fallback · .* failed: CircuitOpen/)
      const second = yield* ask()
      assert.deepStrictEqual(
        second.map(([name]) => name),
        ["fallback", "error", "summary"]
      )
      assert.match(
        String(second[0]?.[1].status),
        /^circuit open \(no call was made; the breaker lets calls through again in \d+\.\d s\), falling back to non-streaming \(attempt 1\/5\)$/
      )
      assert.match(
        String(second[1]?.[1].message),
        /no call was made; the breaker lets calls through again in \d+\.\d s/
      )
      assert.match(
        String(second[2]?.[1].summary),
        /^0 attempts · 1 fallback · .* failed: CircuitOpen \(circuit open, no call made\)$/
      )
    }).pipe(Effect.scoped)
  )

  it.live("rejects a body that is neither a prompt nor messages with 400", () =>
    Effect.gen(function* () {
      const { url } = yield* startExample({})
      for (const body of [
        "not json",
        "{}",
        JSON.stringify({ prompt: "" }),
        JSON.stringify({ messages: [] })
      ]) {
        const response = yield* post(`${url}/api/chat`, body)
        assert.strictEqual(response.status, 400, body)
        assert.include(response.text, "Expected JSON")
      }
    }).pipe(Effect.scoped)
  )

  it.live("names the offending field of a bad body, and calls nothing upstream", () =>
    Effect.gen(function* () {
      const { url, fake } = yield* startExample({})
      const cases: ReadonlyArray<readonly [unknown, string | null, RegExp]> = [
        [{ prompt: "a", messages: "x" }, null, /not both/],
        [{ messages: "x" }, "messages", /^messages: Expected array/],
        [
          { messages: [{ role: "bot", content: "x" }] },
          "messages.0.role",
          /^messages\.0\.role: Expected "system"/
        ],
        [{ messages: [{ role: "user", content: 3 }] }, "messages.0.content", /Expected string/],
        [{ messages: [{ role: "tool", content: "42" }] }, "messages.0.toolCallId", /needs the toolCallId/],
        [{ messages: [{ role: "user", content: " \n " }] }, "messages.0.content", /blank prompt/],
        [{ prompt: "   " }, "prompt", /^prompt: Expected some text, got an empty or blank prompt/],
        [{ prompt: 7 }, "prompt", /^prompt: Expected a string, got 7/],
        [{ prompt: "hi", model: "gpt-5" }, "model", /^model: Unknown field/],
        [[1, 2], null, /^\(body\): Expected a JSON object/]
      ]
      for (const [body, param, message] of cases) {
        const response = yield* post(`${url}/api/chat`, JSON.stringify(body))
        assert.strictEqual(response.status, 400, JSON.stringify(body))
        const error = (
          JSON.parse(response.text) as { error: { message: string; param: string | null; type: string } }
        ).error
        assert.strictEqual(error.param, param, JSON.stringify(body))
        assert.match(error.message, message, JSON.stringify(body))
        assert.strictEqual(error.type, "invalid_request_error")
      }
      const valid = [
        { role: "tool", content: "42", toolCallId: "call_1" },
        { role: "user", content: "and?" }
      ]
      const accepted = yield* post(`${url}/api/chat`, JSON.stringify({ messages: valid }))
      assert.strictEqual(accepted.status, 200, accepted.text)
      const calls = (yield* fake.requests).filter((request) => request.path === "/v1/chat/completions")
      assert.strictEqual(calls.length, 1, "only the valid body reached the model")
    }).pipe(Effect.scoped)
  )

  it.live("answers another method on /api/chat with 405 and Allow: POST", () =>
    Effect.gen(function* () {
      const { url } = yield* startExample({})
      for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
        const response = yield* get(`${url}/api/chat`, { method })
        assert.strictEqual(response.status, 405, method)
        assert.strictEqual(response.headers.get("allow"), "POST", method)
        assert.include(response.text, "use POST")
      }
    }).pipe(Effect.scoped)
  )

  it.live("refuses a body over the limit with 413 naming the limit, declared or chunked", () =>
    Effect.gen(function* () {
      const { url, fake } = yield* startExample({}, undefined, undefined, { maxBodyBytes: 1024 })
      const big = JSON.stringify({ prompt: "x".repeat(4096) })
      const declared = yield* post(`${url}/api/chat`, big)
      assert.strictEqual(declared.status, 413)
      const error = (JSON.parse(declared.text) as { error: { message: string; limit: number } }).error
      assert.strictEqual(error.limit, 1024)
      assert.match(error.message, /larger than the limit of 1 KiB \(1024 bytes\)/)
      const bytes = new TextEncoder().encode(big)
      const chunked = yield* post(`${url}/api/chat`, "", {
        body: new ReadableStream({
          start(controller) {
            for (let i = 0; i < bytes.length; i += 512) controller.enqueue(bytes.subarray(i, i + 512))
            controller.close()
          }
        }),
        duplex: "half"
      } as RequestInit)
      assert.strictEqual(chunked.status, 413)
      assert.include(chunked.text, '"limit":1024')
      const small = yield* post(`${url}/api/chat`, JSON.stringify({ prompt: "x".repeat(900) }))
      assert.strictEqual(small.status, 200)
      assert.strictEqual((yield* fake.requests).filter((r) => r.path === "/v1/chat/completions").length, 1)
    }).pipe(Effect.scoped)
  )

  it.live(
    "a client that goes away and stays away: its answer and upstream call stop after the orphan timeout",
    () =>
      Effect.gen(function* () {
        const store = yield* AnswerStore.memory({ orphanTimeout: "300 millis" })
        const { url, fake } = yield* startExample(FakeScenario.named.slow, undefined, undefined, { store })
        const answer = yield* openAnswer(url, "Tell me about the sea")
        yield* answer.until("text-delta")
        assert.strictEqual(yield* fake.openConnections, 1)
        yield* answer.abort
        assert.isTrue(yield* upstreamCancelled(fake), "the upstream call was cancelled, not left to finish")
      }).pipe(Effect.scoped)
  )

  it.live("shutting down ends every open answer at once with an error frame, and the upstream call", () =>
    Effect.gen(function* () {
      const { url, fake, shutdown } = yield* startExample(FakeScenario.named.slow)
      const answers = yield* Effect.all([openAnswer(url, "one"), openAnswer(url, "two")])
      for (const answer of answers) yield* answer.until("text-delta")
      const started = Date.now()
      yield* shutdown
      const took = Date.now() - started
      assert.isBelow(took, 1000, `shutdown took ${took} ms`)
      for (const answer of answers) {
        const frames = yield* answer.rest
        const [error, summary] = frames.slice(-2)
        assert.strictEqual(error?.[0], "error")
        assert.strictEqual(error?.[1].stopped, "shutdown")
        assert.match(
          String(error?.[1].message),
          /^the server is shutting down: the answer stopped after \d+ chars/
        )
        assert.match(String(summary?.[1].summary), /stopped after .*: server shutting down$/)
      }
      yield* fake.awaitOpenConnections(0).pipe(Effect.timeout("2 seconds"))
    }).pipe(Effect.scoped)
  )

  it.live("logs one structured line per request: method, path, status, duration, outcome, request id", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const { url } = yield* startExample(FakeScenario.named.quota, undefined, undefined, {
        accessLog: (line) => lines.push(line)
      })
      const failed = yield* post(`${url}/api/chat`, JSON.stringify({ prompt: "hi" }), {
        headers: { "content-type": "application/json", "x-request-id": "req-from-client-1" }
      })
      assert.strictEqual(failed.headers.get("x-request-id"), "req-from-client-1")
      const bad = yield* post(`${url}/api/chat`, "{}")
      yield* get(`${url}/api/chat`)
      yield* get(`${url}/nowhere`)
      yield* get(`${url}/`)
      yield* untilLines(lines, 5)
      const entries = lines.map((line) => JSON.parse(line) as AccessLog.Entry)
      assert.deepStrictEqual(
        entries.map(({ method, path, status, outcome, error }) => ({ method, path, status, outcome, error })),
        [
          { method: "POST", path: "/api/chat", status: 200, outcome: "failed", error: "QuotaExceeded" },
          { method: "POST", path: "/api/chat", status: 400, outcome: "rejected", error: undefined },
          { method: "GET", path: "/api/chat", status: 405, outcome: "rejected", error: undefined },
          { method: "GET", path: "/nowhere", status: 404, outcome: "rejected", error: undefined },
          { method: "GET", path: "/", status: 200, outcome: "ok", error: undefined }
        ]
      )
      assert.strictEqual(entries[0]?.requestId, "req-from-client-1")
      assert.strictEqual(entries[1]?.requestId, bad.headers.get("x-request-id"))
      assert.match(entries[1]?.requestId ?? "", /^[0-9a-f-]{36}$/)
      for (const entry of entries) {
        assert.isAtLeast(entry.durationMs, 0)
        assert.match(entry.time, /^\d{4}-\d\d-\d\dT/)
      }
    }).pipe(Effect.scoped)
  )

  it.live("logs an answer as answered, and a client that went away as client-closed", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      // The first call drips slowly (time to walk away); later ones answer at once.
      const { url } = yield* startExample(
        { steps: [FakeScenario.answer({ delay: "150 millis" })] },
        undefined,
        undefined,
        {
          accessLog: (line) => lines.push(line)
        }
      )
      const answer = yield* openAnswer(url, "hi")
      yield* answer.until("text-delta")
      yield* answer.abort
      yield* untilLines(lines, 1)
      yield* post(`${url}/api/chat`, JSON.stringify({ prompt: "hi" }))
      yield* untilLines(lines, 2)
      const [closed, answered] = lines.map((line) => JSON.parse(line) as AccessLog.Entry)
      assert.deepInclude(closed, { method: "POST", path: "/api/chat", status: 200, outcome: "client-closed" })
      assert.deepInclude(answered, { method: "POST", path: "/api/chat", status: 200, outcome: "answered" })
      assert.isAbove(closed?.durationMs ?? 0, 0)
    }).pipe(Effect.scoped)
  )

  it.live("serves the page, its icon and Prometheus metrics", () =>
    Effect.gen(function* () {
      const { url } = yield* startExample({})
      const page = yield* get(`${url}/`)
      assert.strictEqual(page.status, 200)
      assert.include(page.text, '<form id="ask">')
      assert.notMatch(page.text, /<(script|link|img)[^>]+(src|href)="(?!data:)/, "no external assets")
      assert.match(page.text, /<link rel="icon" href="data:image\/svg\+xml,/)
      const icon = yield* get(`${url}/favicon.ico`)
      assert.strictEqual(icon.status, 200)
      assert.strictEqual(icon.type, "image/svg+xml")
      assert.include(icon.text, "<svg")
      yield* post(`${url}/api/chat`, JSON.stringify({ prompt: "hi" }))
      const metrics = yield* get(`${url}/metrics`)
      assert.strictEqual(metrics.status, 200)
      assert.match(metrics.text, /^steadystream_requests_total\{.*\} \d+$/m)
    }).pipe(Effect.scoped)
  )
})
