import { NodeRuntime } from "@effect/platform-node"
import { ResilientChat, ResilientLanguageModel } from "@steadystream/core"
import { OpenAiChatModel } from "@steadystream/openai-adapter"
import { Effect, Layer, Logger, Stream } from "effect"
import { LanguageModel } from "effect/ai"

// An effect/ai LanguageModel whose every call goes through ResilientChat (default policy) and OpenAI.
const Model = ResilientLanguageModel.layer({ model: "gpt-4o-mini" }).pipe(
  Layer.provide(ResilientChat.layer()),
  Layer.provide(OpenAiChatModel.layerConfig())
)

const program = LanguageModel.streamText({ prompt: "Tell me about the sea" }).pipe(
  Stream.runForEach((part) =>
    Effect.sync(() => part.type === "text-delta" && process.stdout.write(part.delta))
  )
)

program.pipe(Effect.provide(Model), Effect.provideService(Logger.LogToStderr, true), NodeRuntime.runMain)
