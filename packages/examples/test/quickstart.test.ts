import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { FakeOpenAiServer, FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Effect from "effect/Effect"
import { runScript } from "./spawn.ts"

const quickstart = fileURLToPath(new URL("../src/quickstart.ts", import.meta.url))

describe("the README's quickstart program", () => {
  it("is the program the README shows", () => {
    const readme = readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8")
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1])
    assert.include(blocks, readFileSync(quickstart, "utf8"))
  })

  it.live(
    "streams exactly the answer through a 429 and a dropped connection, configured from the environment",
    () =>
      Effect.gen(function* () {
        const server = yield* FakeOpenAiServer.make({ ...FakeScenario.named.flaky, apiKey: "sk-quickstart" })
        const run = yield* runScript(quickstart, [], "20 seconds", {
          OPENAI_API_KEY: "sk-quickstart",
          OPENAI_BASE_URL: server.url
        })
        assert.strictEqual(run.code, 0, run.stderr)
        assert.strictEqual(run.stdout, FakeScenario.defaultText)
        const calls = (yield* server.requests).filter((request) => request.path === "/v1/chat/completions")
        assert.deepStrictEqual(
          calls.map((call) => call.outcome),
          ["HttpError", "Answer", "Answer"]
        )
      }).pipe(Effect.scoped)
  )

  it.live("without OPENAI_API_KEY it fails, naming the variable", () =>
    Effect.gen(function* () {
      const run = yield* runScript(quickstart, [])
      assert.notStrictEqual(run.code, 0)
      // NodeRuntime.runMain reports the failure with the default logger, outside the program: on stdout.
      assert.include(run.stdout + run.stderr, "ConfigError")
      assert.include(run.stdout + run.stderr, "OPENAI_API_KEY")
    })
  )
})
