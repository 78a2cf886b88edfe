import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { FakeOpenAiServer, FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Effect from "effect/Effect"
import { runScript } from "./spawn.ts"

const example = fileURLToPath(new URL("../src/effectAi.ts", import.meta.url))

describe("the README's effect/ai program", () => {
  it("is the program the README shows", () => {
    const readme = readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8")
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1])
    assert.include(blocks, readFileSync(example, "utf8"))
  })

  it.live("streams exactly the answer through a 429 and a dropped connection", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({ ...FakeScenario.named.flaky, apiKey: "sk-effect-ai" })
      const run = yield* runScript(example, [], "20 seconds", {
        OPENAI_API_KEY: "sk-effect-ai",
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
})
