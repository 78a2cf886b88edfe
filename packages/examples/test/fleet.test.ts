// `serve --redis`: two real processes on one real redis-server. The one producing an answer is
// killed with SIGKILL mid-answer; the client resumes on the other, which takes the answer over.
import { fileURLToPath } from "node:url"
import { assert, describe, layer } from "@effect/vitest"
import { FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Effect from "effect/Effect"
import * as RedisServer from "../../core/test/RedisServer.ts"
import * as SseClient from "../src/SseClient.ts"
import { runScript, startProcess } from "./spawn.ts"

const serve = fileURLToPath(new URL("../src/serve.ts", import.meta.url))

describe("serve --redis", () => {
  layer(RedisServer.layer, { excludeTestServices: true })((it) => {
    it.effect(
      "an answer whose instance is SIGKILLed mid-answer is finished by another: the text exact",
      () =>
        Effect.gen(function* () {
          const server = yield* RedisServer.Server
          const args = ["--port", "0", "--scenario", "slow", "--redis", server.url]
          const [a, b] = yield* Effect.all(
            [
              startProcess(serve, args, /listening on (http:\/\/\S+)/),
              startProcess(serve, args, /listening on (http:\/\/\S+)/)
            ],
            { concurrency: 2 }
          )
          const first = yield* Effect.promise(() =>
            SseClient.ask(a.ready, "Tell me about the sea", SseClient.deltas(5))
          )
          a.child.kill("SIGKILL")
          const rest = yield* Effect.promise(() =>
            SseClient.resume(b.ready, first.answerId, first.frames.at(-1)?.id)
          )
          assert.strictEqual(
            SseClient.textOf(first.frames) + SseClient.textOf(rest.frames),
            FakeScenario.defaultText
          )
          assert.isTrue(rest.frames.some((frame) => frame.event === "resumed"))
          assert.strictEqual(rest.frames.at(-1)?.event, "summary")
        }).pipe(Effect.scoped),
      30_000
    )

    it.effect("an unreachable Redis stops it at start-up with one line", () =>
      Effect.gen(function* () {
        const result = yield* runScript(serve, ["--port", "0", "--redis", "redis://127.0.0.1:1"])
        assert.strictEqual(result.code, 1)
        assert.match(result.stderr.trim(), /^error: cannot connect to Redis: .*ECONNREFUSED/)
        assert.notInclude(result.stderr.trim(), "\n")
      })
    )
  })
})
