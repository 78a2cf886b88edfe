import * as Net from "node:net"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { FakeOpenAiServer, FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Effect from "effect/Effect"
import { get, openAnswer, parseSse, post } from "./example.ts"
import { busyPort, runScript, startProcess } from "./spawn.ts"

const serve = fileURLToPath(new URL("../src/serve.ts", import.meta.url))
const quick = ["--base-delay", "20ms", "--fake-delay", "0ms"]
const fast = ["--port", "0", ...quick]

describe.concurrent("serve CLI", () => {
  it.live("prints its URL and serves the page, the chat stream and metrics (default scenario: flaky)", () =>
    Effect.gen(function* () {
      const serving = yield* startProcess(serve, fast, /listening on (http:\/\/\S+)/)
      const url = serving.ready
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.include((yield* get(`${url}/`)).text, "SteadyStream")
      const frames = parseSse((yield* post(`${url}/api/chat`, JSON.stringify({ prompt: "hi" }))).text)
      const text = frames.filter(([name]) => name === "text-delta").map(([, data]) => data.delta)
      assert.strictEqual(text.join(""), FakeScenario.defaultText)
      assert.deepStrictEqual(
        frames
          .filter(([name]) => name === "retrying")
          .map(([, data]) => (data.error as { _tag: string })._tag),
        ["RateLimited", "StreamTruncated"]
      )
      assert.include((yield* get(`${url}/metrics`)).text, "steadystream_requests_total")
      yield* Effect.sleep("100 millis")
      const log = serving.output.stderr
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { method: string; path: string; status: number; outcome: string })
      assert.deepStrictEqual(
        log.map(({ method, path, status, outcome }) => `${method} ${path} ${status} ${outcome}`),
        ["GET / 200 ok", "POST /api/chat 200 answered", "GET /metrics 200 ok"],
        "one access-log line per request on stderr"
      )
    }).pipe(Effect.scoped)
  )

  it.live("a rejected key stops it at start-up with one clear line", () =>
    Effect.gen(function* () {
      const fake = yield* FakeOpenAiServer.make({ apiKey: "sk-right" })
      const run = yield* runScript(serve, [...fast, "--base-url", fake.url, "--api-key", "sk-wrong"])
      assert.strictEqual(run.code, 1, run.stderr)
      assert.strictEqual(run.stdout, "")
      assert.match(
        run.stderr,
        /^error: pre-flight check failed, authentication failed: .*\(AuthenticationFailed\)\n$/m
      )
      assert.notMatch(run.stderr, /^\s+at /m)
    }).pipe(Effect.scoped)
  )

  it.live("a bad port prints usage on stderr and exits non-zero", () =>
    Effect.gen(function* () {
      const run = yield* runScript(serve, ["--port", "70000"])
      assert.notStrictEqual(run.code, 0)
      assert.include(run.stderr, "Expected a port between 0 and 65535, got 70000")
      assert.include(run.stderr, "USAGE")
      assert.strictEqual(run.stdout, "")
    })
  )

  it.live("--max-body-size sets the body limit; a bad size is refused naming the flag", () =>
    Effect.gen(function* () {
      const url = (yield* startProcess(
        serve,
        [...fast, "--scenario", "happy", "--max-body-size", "2KiB"],
        /listening on (http:\/\/\S+)/
      )).ready
      const response = yield* post(`${url}/api/chat`, JSON.stringify({ prompt: "x".repeat(3000) }))
      assert.strictEqual(response.status, 413)
      assert.include(response.text, '"limit":2048')
      const bad = yield* runScript(serve, [...fast, "--max-body-size", "10"])
      assert.strictEqual(bad.code, 2)
      assert.match(
        bad.stderr,
        /^error: Invalid value for flag --max-body-size: "10"\. Expected a size from 1KiB to 100MiB/m
      )
    }).pipe(Effect.scoped)
  )

  it.live("a port in use or a host that does not resolve ends it with one error line saying why", () =>
    Effect.gen(function* () {
      const port = yield* busyPort
      const busy = yield* runScript(serve, [...quick, "--scenario", "happy", "--port", String(port)])
      assert.strictEqual(busy.code, 1, busy.stderr)
      assert.strictEqual(busy.stdout, "")
      assert.match(
        busy.stderr,
        new RegExp(
          `^error: cannot listen on 127\\.0\\.0\\.1:${port}: listen EADDRINUSE: address already in use .*\n$`
        )
      )
      const host = yield* runScript(serve, [...fast, "--scenario", "happy", "--host", "999.1.1.1"])
      assert.strictEqual(host.code, 1, host.stderr)
      assert.match(
        host.stderr,
        /^error: cannot listen on 999\.1\.1\.1:0: getaddrinfo ENOTFOUND 999\.1\.1\.1\n$/
      )
    }).pipe(Effect.scoped)
  )

  it.live("Ctrl-C ends open answers with an error frame and exits promptly, saying so", () =>
    Effect.gen(function* () {
      const serving = yield* startProcess(
        serve,
        [...fast, "--scenario", "stall"],
        /listening on (http:\/\/\S+)/
      )
      const answer = yield* openAnswer(serving.ready, "Tell me about the sea")
      yield* answer.until("text-delta")
      const started = Date.now()
      serving.child.kill("SIGINT")
      const code = yield* Effect.promise(() => serving.exited)
      const took = Date.now() - started
      assert.isBelow(took, 1500, `exited ${took} ms after Ctrl-C`)
      assert.strictEqual(code, 130)
      const frames = yield* answer.rest
      assert.deepStrictEqual(
        frames.slice(-2).map(([name]) => name),
        ["error", "summary"]
      )
      assert.strictEqual(frames.at(-2)?.[1].stopped, "shutdown")
      const stderr = serving.output.stderr
      assert.match(
        stderr,
        /^SIGINT: shutting down, ending open answers \(press Ctrl-C again to exit at once\)$/m
      )
      assert.match(stderr, /^stopped in \d+ ms$/m)
      assert.isBelow(
        stderr.indexOf("shutting down"),
        stderr.indexOf('"outcome":"shutdown"'),
        "announced first"
      )
    }).pipe(Effect.scoped)
  )

  it.live("a second Ctrl-C exits at once, even while shutdown waits for a slow client", () =>
    Effect.gen(function* () {
      const serving = yield* startProcess(serve, fast, /listening on (http:\/\/\S+)/)
      // A request whose body never finishes arriving: shutdown waits for it (up to its grace period).
      const { port } = new URL(serving.ready)
      const socket = yield* Effect.acquireRelease(
        Effect.callback<Net.Socket>((resume) => {
          const socket = Net.connect(Number(port), "127.0.0.1", () => resume(Effect.succeed(socket)))
        }),
        (socket) => Effect.sync(() => socket.destroy())
      )
      socket.write(
        "POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
      )
      yield* Effect.sleep("200 millis")
      const started = Date.now()
      serving.child.kill("SIGINT")
      yield* Effect.sleep("300 millis")
      assert.strictEqual(serving.child.exitCode, null, "still waiting for the slow client")
      serving.child.kill("SIGINT")
      const code = yield* Effect.promise(() => serving.exited)
      const took = Date.now() - started
      assert.strictEqual(code, 130)
      assert.isBelow(took, 1000, `exited ${took} ms after the first Ctrl-C`)
      assert.match(serving.output.stderr, /^SIGINT again: exiting at once$/m)
    }).pipe(Effect.scoped)
  )
})
