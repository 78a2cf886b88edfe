import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { FakeOpenAiServer, FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Effect from "effect/Effect"
import * as ModelSource from "../src/ModelSource.ts"
import { closedPort, type Finished, runScript } from "./spawn.ts"

const demo = fileURLToPath(new URL("../src/demo.ts", import.meta.url))

/** Short delays so every scenario runs in a second or two; the defaults stay realistic. */
const fast = ["--base-delay", "20ms", "--fake-delay", "0ms", "--idle-timeout", "1s"]

const runDemo = (args: ReadonlyArray<string>) => runScript(demo, [...args, "Tell me about the sea"])

const lines = (text: string) => text.split("\n").filter((line) => line.length > 0)

/** Failure output is one line saying why, never a stack trace. */
const assertOneClearErrorLine = (run: Finished, pattern: RegExp) => {
  assert.strictEqual(run.code, 1, run.stderr)
  const errors = lines(run.stderr).filter((line) => line.startsWith("error:"))
  assert.strictEqual(errors.length, 1, run.stderr)
  assert.match(errors[0] ?? "", pattern)
  assert.notMatch(run.stderr, /^\s+at /m, "no stack trace")
}

const failing: ReadonlySet<FakeScenario.Name> = new Set(["outage", "quota", "refusal"])

describe.concurrent("demo CLI", () => {
  for (const name of FakeScenario.names.filter((name) => !failing.has(name))) {
    it.live(`scenario ${name}: stdout is exactly the scripted answer`, () =>
      Effect.gen(function* () {
        const run = yield* runDemo(["--scenario", name, ...fast])
        assert.strictEqual(run.code, 0, run.stderr)
        assert.strictEqual(run.stdout, ModelSource.scriptedAnswer(name))
        const summary = lines(run.stderr).at(-1) ?? ""
        assert.match(
          summary,
          /^steadystream: \d+ attempts? · \d+ fallbacks? · first token \d+ ms · \d+ chars · ok in/
        )
        assert.include(summary, `${[...ModelSource.scriptedAnswer(name)].length} chars`)
      })
    )
  }

  it.live("the default scenario (flaky) shows a rate limit and a mid-answer recovery on stderr", () =>
    Effect.gen(function* () {
      const run = yield* runDemo(fast)
      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(run.stdout, FakeScenario.defaultText)
      assert.include(run.stderr, 'scenario "flaky"')
      assert.match(run.stderr, /↻ rate limited, retrying in 1\.0 s \(attempt 2\/5\)/)
      assert.match(run.stderr, /↻ connection lost after \d+ chars, continuing in \d+ ms \(attempt 3\/5\)/)
      assert.match(lines(run.stderr).at(-1) ?? "", /^steadystream: 3 attempts · 0 fallbacks/)
    })
  )

  it.live("--api responses: the same answer through the Responses API", () =>
    Effect.gen(function* () {
      const run = yield* runDemo(["--api", "responses", ...fast])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(run.stdout, FakeScenario.defaultText)
      assert.include(run.stderr, "(Responses API, background mode)")
      assert.match(lines(run.stderr).at(-1) ?? "", /^steadystream: 3 attempts · 0 fallbacks/)
    })
  )

  it.live("scenario stall: the idle timeout recovers the stalled answer", () =>
    Effect.gen(function* () {
      const run = yield* runDemo(["--scenario", "stall", ...fast])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.match(run.stderr, /stalled for 1\.0 s after \d+ chars, continuing in/)
    })
  )

  it.live("scenario quota: fails at once with one clear line and nothing on stdout", () =>
    Effect.gen(function* () {
      const run = yield* runDemo(["--scenario", "quota", ...fast])
      assertOneClearErrorLine(run, /^error: quota exceeded: .*\(QuotaExceeded\)$/)
      assert.strictEqual(run.stdout, "")
      assert.notInclude(run.stderr, "↻", "insufficient_quota is never retried")
    })
  )

  it.live("scenario refusal: fails at once, saying the model refused and in which words", () =>
    Effect.gen(function* () {
      const run = yield* runDemo(["--scenario", "refusal", ...fast])
      assertOneClearErrorLine(
        run,
        /^error: content filtered: The model refused: I'm sorry, but I can't help with that request\. \(ContentFiltered\)$/
      )
      assert.strictEqual(run.stdout, "")
      assert.notInclude(run.stderr, "↻", "a refusal is never retried")
    })
  )

  it.live("scenario rejected: the restarted continuation is rejected on stderr, never shown on stdout", () =>
    Effect.gen(function* () {
      const run = yield* runDemo(["--scenario", "rejected", ...fast])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(run.stdout, FakeScenario.defaultText)
      assert.match(run.stderr, /↻ continuation rejected \(restarted\) after \d+ chars, continuing in/)
    })
  )

  it.live("scenario outage: retries, falls back, then fails with one clear line", () =>
    Effect.gen(function* () {
      const run = yield* runDemo(["--scenario", "outage", ...fast])
      assertOneClearErrorLine(run, /^error: server overloaded: .*\(Overloaded\)$/)
      assert.strictEqual(run.stdout, "")
      assert.include(run.stderr, "falling back to non-streaming (attempt 5/5)")
      assert.include(run.stderr, "5 attempts · 1 fallback")
    })
  )

  it.live("points at any OpenAI-compatible server with --base-url and --api-key", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({ apiKey: "sk-right", text: "Hello from elsewhere." })
      const run = yield* runDemo(["--base-url", server.url, "--api-key", "sk-right", ...fast])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(run.stdout, "Hello from elsewhere.")
      assert.include(run.stderr, `answering from ${server.url}`)
    }).pipe(Effect.scoped)
  )

  it.live("a rejected key ends the pre-flight with one clear line, and the key is not shown", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({ apiKey: "sk-right" })
      const run = yield* runDemo(["--base-url", server.url, "--api-key", "sk-wrong-secret", ...fast])
      assertOneClearErrorLine(
        run,
        /^error: pre-flight check failed, authentication failed: .*\(AuthenticationFailed\)$/
      )
      assert.strictEqual(run.stdout, "")
      assert.notInclude(run.stderr, "sk-wrong-secret")
      const requests = yield* server.requests
      assert.deepStrictEqual(
        requests.map((request) => request.path),
        ["/v1/models"],
        "no chat call after a failed pre-flight"
      )
    }).pipe(Effect.scoped)
  )

  it.live("an unreachable server ends the pre-flight with one clear line", () =>
    Effect.gen(function* () {
      const port = yield* closedPort
      const run = yield* runDemo(["--base-url", `http://127.0.0.1:${port}/v1`, ...fast])
      assertOneClearErrorLine(
        run,
        /^error: pre-flight check failed, connection failed: .*\(ConnectionFailed\)$/
      )
      assert.strictEqual(run.stdout, "")
    })
  )

  it.live("a bad flag prints usage and one error line on stderr, nothing on stdout, and exits 2", () =>
    Effect.gen(function* () {
      const run = yield* runDemo(["--scenario", "nope"])
      assert.strictEqual(run.code, 2, run.stderr)
      assert.strictEqual(run.stdout, "", "usage never goes to stdout (demo … > answer.txt)")
      assert.include(run.stderr, "USAGE")
      assert.include(run.stderr, "--scenario")
      assert.match(lines(run.stderr).at(-1) ?? "", /^error: Invalid value for flag --scenario: "nope"/)
    })
  )

  it.live("flag values are checked, the complaint naming the flag and what it accepts", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, RegExp]> = [
        [
          ["--idle-timeout", "0s"],
          /^error: Invalid value for flag --idle-timeout: "0s"\. Expected a duration of at least 100ms and at most 10m/
        ],
        [
          ["--idle-timeout", "banana"],
          /^error: Invalid value for flag --idle-timeout: "banana"\. Expected a duration/
        ],
        [
          ["--base-delay", "-1s"],
          /^error: Invalid value for flag --base-delay: "-1s"\. Expected a duration of at least 1ms/
        ],
        [
          ["--fake-delay", "1h"],
          /^error: Invalid value for flag --fake-delay: "1h"\. Expected a duration from 0 to 10s/
        ],
        [
          ["--max-retries", "-1"],
          /^error: Invalid value for flag --max-retries: "-1"\. Expected 0 to 10 retries$/
        ]
      ]
      const runs = yield* Effect.forEach(cases, ([args]) => runDemo(args), { concurrency: 2 })
      for (const [index, run] of runs.entries()) {
        const [args, pattern] = cases[index] ?? [[], /$^/]
        assert.strictEqual(run.code, 2, `${args.join(" ")}: ${run.stderr}`)
        assert.strictEqual(run.stdout, "", args.join(" "))
        const errors = lines(run.stderr).filter((line) => line.startsWith("error:"))
        assert.strictEqual(errors.length, 1, run.stderr)
        assert.match(errors[0] ?? "", pattern)
      }
    })
  )

  it.live("an empty or blank prompt is refused before anything is asked", () =>
    Effect.gen(function* () {
      for (const blank of ["", "   "]) {
        const run = yield* runScript(demo, ["--scenario", "happy", blank])
        assert.strictEqual(run.code, 2, run.stderr)
        assert.strictEqual(run.stdout, "")
        assert.notInclude(run.stderr, "answering from", "refused before the source is set up")
        assert.match(
          lines(run.stderr).at(-1) ?? "",
          /^error: Invalid value for argument <prompt>: .*empty or blank prompt$/
        )
      }
    })
  )

  it.live("--help lists every scenario", () =>
    Effect.gen(function* () {
      const run = yield* runScript(demo, ["--help"])
      assert.strictEqual(run.code, 0, run.stderr)
      for (const name of FakeScenario.names) assert.include(run.stdout, `${name} = `)
    })
  )
})
