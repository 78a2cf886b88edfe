/**
 * The clients under comparison, each as "run one request to its end, calling
 * `onText` for every piece of text": the raw `openai` SDK, the SteadyStream
 * adapter alone, `ResilientChat`, and the Vercel AI SDK.
 */
import { createOpenAI } from "@ai-sdk/openai"
import { ChatModel, type ResiliencePolicy, ResilientChat } from "@steadystream/core"
import { OpenAiChatModel, OpenAiResponsesModel } from "@steadystream/openai-adapter"
import { streamText } from "ai"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import OpenAI from "openai"

export const benchKey = "sk-bench-not-a-real-key"

const messages = [{ role: "user" as const, content: "Tell me about foxes" }]

/** The clients' display names, as in every table. */
export const names = {
  raw: "openai SDK (raw)",
  adapter: "OpenAiChatModel",
  resilient: "ResilientChat",
  ai: "AI SDK streamText"
} as const

export type Run = (onText: (text: string) => void, signal?: AbortSignal) => Promise<void>

export interface Client {
  readonly name: string
  readonly run: Run
  readonly dispose: () => Promise<void>
  /** How many `retrying`, `fallback` and `restart` events all runs have seen (SteadyStream only). */
  readonly recoveries?: () => number
}

const recoveryEvents: ReadonlySet<string> = new Set(["retrying", "fallback", "restart"])

/** The official SDK, `for await` over the stream. */
export const rawSdk = (baseURL: string, options: { readonly maxRetries?: number } = {}): Client => {
  const client = new OpenAI({ apiKey: benchKey, baseURL, maxRetries: options.maxRetries ?? 0 })
  return {
    name: names.raw,
    run: async (onText, signal) => {
      const stream = await client.chat.completions.create(
        { model: "gpt-fake", messages, stream: true, stream_options: { include_usage: true } },
        signal === undefined ? {} : { signal }
      )
      for await (const chunk of stream) {
        const text = chunk.choices[0]?.delta?.content
        if (typeof text === "string" && text.length > 0) onText(text)
      }
    },
    dispose: async () => {}
  }
}

const effectClient = <R>(
  name: string,
  layer: Layer.Layer<R, unknown>,
  stream: Effect.Effect<Stream.Stream<{ readonly type: string; readonly delta?: string }, unknown>, never, R>
): Client => {
  const runtime = ManagedRuntime.make(Layer.merge(layer, Logger.layer([])))
  let recoveries = 0
  return {
    name,
    run: (onText, signal) =>
      runtime.runPromise(
        Stream.unwrap(stream).pipe(
          Stream.runForEach((event) =>
            Effect.sync(() => {
              if (event.type === "text-delta") onText(event.delta!)
              else if (recoveryEvents.has(event.type)) recoveries++
            })
          )
        ),
        signal === undefined ? undefined : { signal }
      ),
    dispose: () => runtime.dispose(),
    recoveries: () => recoveries
  }
}

/** The SteadyStream adapter alone (no resilience). */
export const adapter = (baseURL: string): Client =>
  effectClient(
    names.adapter,
    OpenAiChatModel.layer({ apiKey: Redacted.make(benchKey), baseURL }),
    Effect.gen(function* () {
      const model = yield* ChatModel.ChatModel
      return model.stream({ model: "gpt-fake", messages })
    })
  )

/** `ResilientChat` over the adapter (Chat Completions, or the Responses API in background mode). */
export const resilient = (
  baseURL: string,
  policy?: ResiliencePolicy.ResiliencePolicy,
  api: "chat" | "responses" = "chat"
): Client =>
  effectClient(
    names.resilient,
    ResilientChat.layer(policy).pipe(
      Layer.provide(
        (api === "chat" ? OpenAiChatModel.layer : OpenAiResponsesModel.layer)({
          apiKey: Redacted.make(benchKey),
          baseURL
        })
      )
    ),
    Effect.gen(function* () {
      const chat = yield* ResilientChat.ResilientChat
      return chat.stream({ model: "gpt-fake", messages })
    })
  )

/** The Vercel AI SDK: `streamText` with the chat-completions model, `textStream`. */
export const aiSdk = (baseURL: string): Client => {
  const provider = createOpenAI({ apiKey: benchKey, baseURL })
  return {
    name: names.ai,
    run: async (onText, signal) => {
      let failure: unknown
      const result = streamText({
        model: provider.chat("gpt-fake"),
        messages,
        maxRetries: 0,
        ...(signal === undefined ? {} : { abortSignal: signal }),
        onError: ({ error }) => {
          failure = error
        }
      })
      for await (const text of result.textStream) onText(text)
      if (failure !== undefined) throw failure
    },
    dispose: async () => {}
  }
}
