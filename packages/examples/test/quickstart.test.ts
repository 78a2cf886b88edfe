import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Effect from "effect/Effect"
import { readmeBlocks, runFlaky } from "./programs.ts"
import { runScript } from "./spawn.ts"

const quickstart = fileURLToPath(new URL("../src/quickstart.ts", import.meta.url))

describe("the README's quickstart program", () => {
  it("is the program the README shows", () => {
    assert.include(readmeBlocks(), readFileSync(quickstart, "utf8"))
  })

  it.live(
    "streams exactly the answer through a 429 and a dropped connection, configured from the environment",
    () =>
      Effect.gen(function* () {
        const { run, outcomes } = yield* runFlaky(quickstart, "sk-quickstart")
        assert.strictEqual(run.code, 0, run.stderr)
        assert.strictEqual(run.stdout, FakeScenario.defaultText)
        assert.deepStrictEqual(outcomes, ["HttpError", "Answer", "Answer"])
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
