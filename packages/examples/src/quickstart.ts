import { NodeRuntime } from "@effect/platform-node"
import { ResilientChat } from "@steadystream/core"
import { OpenAiChatModel } from "@steadystream/openai-adapter"
import { Effect, Layer, Logger, Stream } from "effect"

// OPENAI_API_KEY (and optionally OPENAI_BASE_URL) from the environment; default resilience policy.
const Chat = ResilientChat.layer().pipe(Layer.provide(OpenAiChatModel.layerConfig()))

const program = Effect.gen(function* () {
  const chat = yield* ResilientChat.ResilientChat
  const answer = chat.stream({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "Tell me about the sea" }]
  })
  yield* Stream.runForEach(answer, (event) =>
    Effect.sync(() => event.type === "text-delta" && process.stdout.write(event.delta))
  )
})

// Logs (a warning per retry) go to stderr, so stdout is exactly the answer.
program.pipe(Effect.provide(Chat), Effect.provideService(Logger.LogToStderr, true), NodeRuntime.runMain)
