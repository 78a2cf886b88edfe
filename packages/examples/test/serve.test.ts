import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { FakeOpenAiServer, FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Effect from "effect/Effect"
import { get, parseSse, post } from "./example.ts"
import { busyPort, runScript, startScript } from "./spawn.ts"

const serve = fileURLToPath(new URL("../src/serve.ts", import.meta.url))
const quick = ["--base-delay", "20ms", "--fake-delay", "0ms"]
const fast = ["--port", "0", ...quick]

describe.concurrent("serve CLI", () => {
  it.live("prints its URL and serves the page, the chat stream and metrics (default scenario: flaky)", () =>
    Effect.gen(function* () {
      const url = yield* startScript(serve, fast, /listening on (http:\/\/\S+)/)
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
      const url = yield* startScript(
        serve,
        [...fast, "--scenario", "happy", "--max-body-size", "2KiB"],
        /listening on (http:\/\/\S+)/
      )
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
})
