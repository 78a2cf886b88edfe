import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Effect from "effect/Effect"
import { readmeBlocks, runFlaky } from "./programs.ts"

const example = fileURLToPath(new URL("../src/effectAi.ts", import.meta.url))

describe("the README's effect/ai program", () => {
  it("is the program the README shows", () => {
    assert.include(readmeBlocks(), readFileSync(example, "utf8"))
  })

  it.live("streams exactly the answer through a 429 and a dropped connection", () =>
    Effect.gen(function* () {
      const { run, outcomes } = yield* runFlaky(example, "sk-effect-ai")
      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(run.stdout, FakeScenario.defaultText)
      assert.deepStrictEqual(outcomes, ["HttpError", "Answer", "Answer"])
    }).pipe(Effect.scoped)
  )
})
