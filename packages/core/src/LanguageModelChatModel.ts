/**
 * Any `effect/ai` `LanguageModel` as a `ChatModel`: a provider port, so an
 * `effect/ai` provider can be the primary model of a `ResilientChat` or a
 * step of its fallback chain.
 *
 * @since 0.2.0
 */

import * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Prompt from "effect/ai/Prompt"
import type * as Response from "effect/ai/Response"
import * as Tool from "effect/ai/Tool"
import type * as Toolkit from "effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { fromAiError, type Source } from "./AiErrorMapping.ts"
import { fromEvents } from "./ChatCompletion.ts"
import { type ChatError, MalformedResponse } from "./ChatError.ts"
import { ChatModel, type Service } from "./ChatModel.ts"
import type { ChatMessage, ChatRequest, Tool as ChatTool } from "./ChatRequest.ts"
import type { FinishReason } from "./FinishReason.ts"
import type { ModelEvent } from "./ModelEvent.ts"
import type { Finish } from "./StreamEvent.ts"

/**
 * @since 0.2.0
 */
export interface Options {
  /** The name errors, logs and metrics show. Default `"effect-ai"`. */
  readonly provider?: string
}

const toMessage = (message: ChatMessage): Prompt.MessageEncoded => {
  switch (message.role) {
    case "system":
    case "user":
    case "assistant":
      return { role: message.role, content: message.content }
    case "tool":
      return {
        role: "tool",
        content: [
          {
            type: "tool-result",
            id: message.toolCallId ?? "",
            name: message.name ?? "",
            isFailure: false,
            result: message.content
          }
        ]
      }
  }
}

const dynamicTool = (tool: ChatTool) =>
  Tool.dynamic(tool.name, {
    description: tool.description,
    parameters: tool.parameters ?? { type: "object", properties: {} }
  })

/** The tools to offer, never to run: calls are only reported (`disableToolCallResolution`). */
const toolkitOf = (
  tools: ReadonlyArray<ChatTool>
): Toolkit.WithHandler<Record<string, ReturnType<typeof dynamicTool>>> => ({
  tools: Object.fromEntries(tools.map((tool) => [tool.name, dynamicTool(tool)])),
  handle: () => Effect.die("ChatModel.fromLanguageModel never runs tools")
})

const optionsOf = (request: ChatRequest) => ({
  prompt: Prompt.make(request.messages.map(toMessage)),
  toolkit: toolkitOf(request.tools ?? []),
  disableToolCallResolution: true as const
})

const closed: ReadonlySet<string> = new Set<FinishReason>([
  "stop",
  "length",
  "content-filter",
  "tool-calls",
  "other"
])

const finishOf = (part: Response.FinishPart): Finish => {
  const input = part.usage.inputTokens.total
  const output = part.usage.outputTokens.total
  return {
    type: "finish",
    ...(closed.has(part.reason)
      ? { reason: part.reason as FinishReason }
      : { reason: "other", rawReason: part.reason }),
    ...(input === undefined || output === undefined
      ? {}
      : { usage: { inputTokens: input, outputTokens: output, totalTokens: input + output } })
  }
}

const failureOf = (error: unknown, source: Source): ChatError =>
  AiError.isAiError(error)
    ? fromAiError(error, source)
    : new MalformedResponse({ ...source, message: `The model reported an error: ${String(error)}` })

const content = (type: "text-delta" | "reasoning-delta", delta: string): ReadonlyArray<ModelEvent> =>
  delta === "" ? [] : [{ type, delta }]

/** One part in (whole or streamed), its events out; the state counts the tool calls so far. */
const step =
  (source: Source) =>
  (
    calls: number,
    part: Response.AnyPart
  ): Effect.Effect<readonly [number, ReadonlyArray<ModelEvent>], ChatError> => {
    switch (part.type) {
      case "text":
        return Effect.succeed([calls, content("text-delta", part.text)])
      case "text-delta":
        return Effect.succeed([calls, content("text-delta", part.delta)])
      case "reasoning":
        return Effect.succeed([calls, content("reasoning-delta", part.text)])
      case "reasoning-delta":
        return Effect.succeed([calls, content("reasoning-delta", part.delta)])
      case "tool-call":
        return Effect.succeed(
          part.providerExecuted
            ? [calls, []]
            : [
                calls + 1,
                [
                  {
                    type: "tool-call-delta",
                    index: calls,
                    id: part.id,
                    name: part.name,
                    argumentsDelta: JSON.stringify(part.params ?? {})
                  }
                ]
              ]
        )
      case "finish":
        return Effect.succeed([calls, [finishOf(part)]])
      case "error":
        return Effect.fail(failureOf(part.error, source))
      default:
        return Effect.succeed([calls, []])
    }
  }

/**
 * A `LanguageModel` as the provider port.
 *
 * **Details**
 *
 * - The request's messages become the prompt; a `tool` message becomes a
 *   tool result (`toolCallId`, `name`, its text as the result). Its tools are
 *   offered with their JSON Schema and never run: tool calls come back as
 *   `tool-call-delta` events, one per call with all its arguments.
 * - Text and reasoning parts become `text-delta` and `reasoning-delta`
 *   events; `finish` keeps the reason (`error`, `pause` and `unknown` become
 *   `"other"` with the raw value) and the usage when both totals are known;
 *   an `error` part fails the stream. Other parts are dropped.
 * - `complete` folds the `generateText` response the same way.
 * - Every `AiError` becomes a `ChatError` through
 *   `AiErrorMapping.fromAiError`.
 *
 * **Gotchas**
 *
 * - The `LanguageModel` fixes its model and sampling options in its own
 *   layer: the request's `model` only names the target in errors and in the
 *   circuit breaker key; `temperature`, `topP`, `maxTokens`, `stop` and
 *   `user` are not sent.
 * - `effect/ai` has no retries of its own; this adds none. Do not wrap the
 *   model in an `ExecutionPlan` or build it on a retrying HTTP client:
 *   `ResilientChat` does the retrying, and doing it twice multiplies
 *   attempts.
 * - A stream without a `finish` part ends without a `finish` event, which
 *   `ResilientChat` treats as a truncated answer.
 * - Continuations use the `"instruction"` mode (the default): the
 *   `LanguageModel` is not assumed to continue a final assistant message.
 *
 * @since 0.2.0
 */
export const fromLanguageModel = (lm: LanguageModel.LanguageModel, options: Options = {}): Service => {
  const provider = options.provider ?? "effect-ai"
  const sourceOf = (request: ChatRequest): Source => ({ provider, model: request.model })
  return {
    provider,
    stream: (request) =>
      lm.streamText(optionsOf(request)).pipe(
        Stream.mapError((error) => fromAiError(error, sourceOf(request))),
        Stream.mapAccumEffect(() => 0, step(sourceOf(request)))
      ),
    complete: (request) =>
      lm.generateText(optionsOf(request)).pipe(
        Effect.mapError((error) => fromAiError(error, sourceOf(request))),
        Effect.flatMap((response) =>
          Stream.fromIterable<Response.AnyPart>(response.content).pipe(
            Stream.mapAccumEffect(() => 0, step(sourceOf(request))),
            Stream.runCollect
          )
        ),
        Effect.map((events) => fromEvents(events, request.model))
      )
  }
}

/**
 * The `ChatModel` over the current `LanguageModel`, for a fallback step:
 * `FallbackStep.chatModel("backup", LanguageModelChatModel.layer().pipe(Layer.provide(BackupModel)))`.
 *
 * @since 0.2.0
 */
export const layer = (options: Options = {}): Layer.Layer<ChatModel, never, LanguageModel.LanguageModel> =>
  Layer.effect(
    ChatModel,
    Effect.map(LanguageModel.LanguageModel, (lm) => fromLanguageModel(lm, options))
  )
