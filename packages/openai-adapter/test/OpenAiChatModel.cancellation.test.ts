import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as FakeScenario from "../src/testing/FakeScenario.ts"
import { request, setup, textOf, words } from "./fixtures.ts"

describe("OpenAiChatModel cancellation", () => {
  it.live("a consumer that stops early (Stream.take) closes the connection", () =>
    Effect.gen(function* () {
      const { server, model } = yield* setup({ steps: [FakeScenario.answer({ delay: "20 millis" })] })
      const events = yield* model.stream(request).pipe(Stream.take(2), Stream.runCollect)
      assert.strictEqual(textOf(events), words(2))
      yield* server.awaitOpenConnections(0).pipe(Effect.timeout("1 second"))
      const [recorded] = yield* server.requests
      assert.isTrue(recorded!.clientClosedEarly)
    })
  )

  it.live("interrupting complete() while the server holds back its headers aborts the request", () =>
    Effect.gen(function* () {
      const { server, model } = yield* setup({ steps: [FakeScenario.stallAfter(0)] })
      const fiber = yield* model.complete(request).pipe(Effect.forkChild)
      yield* server.awaitOpenConnections(1).pipe(Effect.timeout("1 second"))
      yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(fiber)
      yield* server.awaitOpenConnections(0).pipe(Effect.timeout("1 second"))
      const [recorded] = yield* server.requests
      assert.isTrue(recorded!.clientClosedEarly)
    })
  )
})
