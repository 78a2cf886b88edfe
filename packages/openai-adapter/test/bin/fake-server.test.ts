import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import OpenAI from "openai"

const script = fileURLToPath(new URL("../../src/bin/fake-server.ts", import.meta.url))

/** Spawns the CLI with Node 24 (the running one); killed when the scope closes. */
const start = (args: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, [script, ...args], { stdio: "pipe" })
      const output = { stdout: "", stderr: "" }
      child.stdout.on("data", (data: Buffer) => {
        output.stdout += data.toString("utf8")
      })
      child.stderr.on("data", (data: Buffer) => {
        output.stderr += data.toString("utf8")
      })
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
      return { child, output, exited }
    }),
    ({ child, exited }) =>
      Effect.promise(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
        return exited
      })
  )

const waitForUrl = (process: {
  readonly child: ChildProcessWithoutNullStreams
  readonly output: { stdout: string }
}) =>
  Effect.promise(
    () =>
      new Promise<string>((resolve, reject) => {
        const check = () => {
          const match = /listening on (http:\/\/\S+\/v1)/.exec(process.output.stdout)
          if (match?.[1] !== undefined) resolve(match[1])
        }
        process.child.stdout.on("data", check)
        process.child.on("exit", (code) => reject(new Error(`exited with ${code} before printing a URL`)))
        check()
      })
  ).pipe(Effect.timeout("10 seconds"))

describe("fake-server CLI", () => {
  it.live("--api responses speaks only the Responses API", () =>
    Effect.gen(function* () {
      const server = yield* start(["--api", "responses", "--port", "0"])
      const url = yield* waitForUrl(server)
      assert.include(server.output.stdout, "api: responses")
      const client = new OpenAI({ apiKey: "sk-any", baseURL: url, maxRetries: 0 })
      const answered = yield* Effect.promise(() =>
        client.responses.create({ model: "m", input: "hi" }).then((response) => response.status)
      )
      assert.strictEqual(answered, "completed")
      const chat = yield* Effect.promise(() =>
        client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }).then(
          () => 200,
          (error: { status?: number }) => error.status
        )
      )
      assert.strictEqual(chat, 404)
    })
  )

  it.live("prints a base URL that answers /v1/models and plays the named scenario", () =>
    Effect.gen(function* () {
      const server = yield* start(["--scenario", "flaky", "--port", "0"])
      const url = yield* waitForUrl(server)
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/)
      const models = yield* Effect.promise(() => fetch(`${url}/models`).then((r) => r.json()))
      assert.strictEqual((models as { object: string }).object, "list")
      // flaky: the first call is a 429 with retry-after 1
      const client = new OpenAI({ apiKey: "sk-any", baseURL: url, maxRetries: 0 })
      const error = yield* Effect.promise(() =>
        client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }).then(
          () => undefined,
          (e: unknown) => e
        )
      )
      assert.instanceOf(error, OpenAI.RateLimitError)
      assert.strictEqual(
        (error as InstanceType<typeof OpenAI.RateLimitError>).headers.get("retry-after"),
        "1"
      )
    })
  )

  it.live("an unknown scenario exits non-zero and names the valid ones", () =>
    Effect.gen(function* () {
      const server = yield* start(["--scenario", "nope", "--port", "0"])
      const code = yield* Effect.promise(() => server.exited).pipe(Effect.timeout("10 seconds"))
      assert.notStrictEqual(code, 0)
      assert.include(server.output.stderr, 'Invalid value for flag --scenario: "nope"')
      assert.include(server.output.stderr, '"flaky"')
      assert.strictEqual(server.output.stdout, "")
    })
  )

  it.live("a bad port exits non-zero with a clear message", () =>
    Effect.gen(function* () {
      const server = yield* start(["--port", "70000"])
      const code = yield* Effect.promise(() => server.exited).pipe(Effect.timeout("10 seconds"))
      assert.notStrictEqual(code, 0)
      assert.include(server.output.stderr, "Expected a port between 0 and 65535, got 70000")
    })
  )

  it.live("a bad flag prints the usage and the error naming the flag on stderr, nothing on stdout", () =>
    Effect.gen(function* () {
      for (const args of [["--port", "banana"], ["--host="], ["--api-key="]]) {
        const server = yield* start(args)
        const code = yield* Effect.promise(() => server.exited).pipe(Effect.timeout("10 seconds"))
        assert.strictEqual(code, 1, args.join(" "))
        assert.strictEqual(server.output.stdout, "", args.join(" "))
        assert.include(server.output.stderr, "USAGE")
        assert.match(server.output.stderr, /flag --(port|host|api-key)/)
      }
    })
  )

  it.live("a port in use or a host it cannot bind: one error line with the reason, exit code 1", () =>
    Effect.gen(function* () {
      const first = yield* start(["--port", "0"])
      const port = new URL(yield* waitForUrl(first)).port
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, RegExp]> = [
        [
          ["--port", port],
          new RegExp(`^error: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE.*\\n$`)
        ],
        [["--host", "999.1.1.1"], /^error: cannot listen on 999\.1\.1\.1:8787: \S.*\n$/]
      ]
      for (const [args, line] of cases) {
        const server = yield* start(args)
        const code = yield* Effect.promise(() => server.exited).pipe(Effect.timeout("10 seconds"))
        assert.strictEqual(code, 1, args.join(" "))
        assert.match(server.output.stderr, line)
        assert.strictEqual(server.output.stdout, "")
      }
    })
  )
})
