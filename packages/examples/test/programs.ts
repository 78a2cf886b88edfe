import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { FakeOpenAiServer, FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Effect from "effect/Effect"
import { runScript } from "./spawn.ts"

/** The `ts` code blocks of the root README. */
export const readmeBlocks = (): ReadonlyArray<string | undefined> => {
  const readme = readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8")
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1])
}

/**
 * Runs a README program configured from the environment (OPENAI_API_KEY, OPENAI_BASE_URL) against a
 * fake server playing the `flaky` scenario (a 429, then a reset mid-answer): what it printed, and how
 * the server answered each chat call.
 */
export const runFlaky = (program: string, apiKey: string) =>
  Effect.gen(function* () {
    const server = yield* FakeOpenAiServer.make({ ...FakeScenario.named.flaky, apiKey })
    const run = yield* runScript(program, [], "20 seconds", {
      OPENAI_API_KEY: apiKey,
      OPENAI_BASE_URL: server.url
    })
    const calls = (yield* server.requests).filter((request) => request.path === "/v1/chat/completions")
    return { run, outcomes: calls.map((call) => call.outcome) }
  })
