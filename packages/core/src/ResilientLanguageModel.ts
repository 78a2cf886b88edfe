/**
 * `effect/ai` programs on SteadyStream: a `LanguageModel` whose every call
 * goes through `ResilientChat`, so `LanguageModel.streamText`,
 * `generateText`, `Chat` and toolkits get exactly-once text across
 * mid-stream failures, typed errors, deadlines and fallback.
 *
 * @since 0.2.0
 */

import * as AiError from "effect/ai/AiError"
import * as LanguageModel from "effect/ai/LanguageModel"
import * as Prompt from "effect/ai/Prompt"
import type * as Response from "effect/ai/Response"
import * as Tool from "effect/ai/Tool"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { toReason } from "./AiErrorMapping.ts"
import { fromEvents, type ToolCall } from "./ChatCompletion.ts"
import type { ChatMessage, ChatRequest, Tool as ChatTool } from "./ChatRequest.ts"
import type { FinishReason } from "./FinishReason.ts"
import { ResilientChat } from "./ResilientChat.ts"
import type { StreamEvent, ToolCallDelta } from "./StreamEvent.ts"
import type { Usage } from "./Usage.ts"

/**
 * The model and sampling options of every request (the prompt and tools come
 * from each call).
 *
 * @since 0.2.0
 */
export type Options = Omit<ChatRequest, "messages" | "tools">

type Reason = AiError.AiErrorReason

const isText = (part: { readonly type: string }): part is Prompt.TextPart => part.type === "text"

const textOf = (parts: ReadonlyArray<{ readonly type: string }>): string =>
  parts
    .filter(isText)
    .map((part) => part.text)
    .join("\n")

const resultText = (part: Prompt.ToolResultPart): string =>
  part.modelOutput !== undefined
    ? Prompt.toolModelOutputToText(part.modelOutput)
    : typeof part.result === "string"
      ? part.result
      : JSON.stringify(part.result ?? null)

const toMessages = (message: Prompt.Message): Effect.Effect<ReadonlyArray<ChatMessage>, Reason> => {
  switch (message.role) {
    case "system":
      return Effect.succeed([{ role: "system", content: message.content }])
    case "user": {
      const file = message.content.find((part) => part.type === "file")
      return file === undefined
        ? Effect.succeed([{ role: "user", content: textOf(message.content) }])
        : Effect.fail(
            new AiError.InvalidUserInputError({
              description: `A chat request carries text only; this user message has a file (${file.mediaType})`
            })
          )
    }
    case "assistant": {
      const content = textOf(message.content)
      return Effect.succeed(content === "" ? [] : [{ role: "assistant", content }])
    }
    case "tool":
      return Effect.succeed(
        message.content.flatMap((part) =>
          part.type === "tool-result"
            ? [{ role: "tool" as const, content: resultText(part), toolCallId: part.id, name: part.name }]
            : []
        )
      )
  }
}

const toTools = (options: LanguageModel.ProviderOptions): Effect.Effect<ReadonlyArray<ChatTool>, Reason> => {
  const choice = options.toolChoice
  if (choice === "none") return Effect.succeed([])
  const tools =
    typeof choice === "object" && "tool" in choice
      ? options.tools.filter((tool) => tool.name === choice.tool)
      : options.tools
  const builtIn = tools.find((tool) => Tool.isProviderDefined(tool))
  if (builtIn !== undefined) {
    return Effect.fail(
      new AiError.ToolConfigurationError({
        toolName: builtIn.name,
        description: "A provider-defined tool cannot be sent through a provider-agnostic chat request"
      })
    )
  }
  return Effect.succeed(
    tools.map((tool) => {
      const description = Tool.getDescription(tool)
      return {
        name: tool.name,
        ...(description === undefined ? {} : { description }),
        parameters: { ...Tool.getJsonSchema(tool) }
      }
    })
  )
}

const toRequest = (options: LanguageModel.ProviderOptions, settings: Options) =>
  Effect.map(
    Effect.all([Effect.forEach(options.prompt.content, toMessages), toTools(options)]),
    ([messages, tools]): ChatRequest => ({
      ...settings,
      messages: messages.flat(),
      ...(tools.length === 0 ? {} : { tools })
    })
  )

const parseArguments = (call: ToolCall): Effect.Effect<unknown, Reason> =>
  Effect.try({
    try: () => (call.arguments.trim() === "" ? {} : Tool.unsafeSecureJsonParse(call.arguments)),
    catch: (cause) =>
      new AiError.InvalidOutputError({
        description: `The arguments of tool call ${call.id} (${call.name}) are not valid JSON: ${String(cause)}`
      })
  })

const toolCallParts = (calls: ReadonlyArray<ToolCall>) =>
  Effect.forEach(calls, (call) =>
    Effect.map(
      parseArguments(call),
      (params): Response.ToolCallPartEncoded => ({ type: "tool-call", id: call.id, name: call.name, params })
    )
  )

const finishPart = (reason: FinishReason, usage: Usage | undefined): Response.FinishPartEncoded => ({
  type: "finish",
  reason,
  usage: { inputTokens: { total: usage?.inputTokens }, outputTokens: { total: usage?.outputTokens } }
})

/** The open text or reasoning block, how many blocks were opened, and the tool call pieces so far. */
interface State {
  readonly block: { readonly kind: "text" | "reasoning"; readonly id: string } | undefined
  readonly blocks: number
  readonly toolCalls: ReadonlyArray<ToolCallDelta>
}

const initial: State = { block: undefined, blocks: 0, toolCalls: [] }

type Parts = ReadonlyArray<Response.StreamPartEncoded>

const close = (state: State): Parts =>
  state.block === undefined
    ? []
    : [{ type: state.block.kind === "text" ? "text-end" : "reasoning-end", id: state.block.id }]

const delta = (state: State, kind: "text" | "reasoning", text: string): readonly [State, Parts] => {
  const type = kind === "text" ? "text-delta" : "reasoning-delta"
  if (state.block?.kind === kind) return [state, [{ type, id: state.block.id, delta: text }]]
  const id = `${kind}-${state.blocks}`
  const start = kind === "text" ? "text-start" : "reasoning-start"
  return [
    { ...state, block: { kind, id }, blocks: state.blocks + 1 },
    [...close(state), { type: start, id }, { type, id, delta: text }]
  ]
}

/** One event in, the parts it completes out. Pure apart from failing. */
const step = (state: State, event: StreamEvent): Effect.Effect<readonly [State, Parts], Reason> => {
  switch (event.type) {
    case "text-delta":
    case "reasoning-delta":
      return Effect.succeed(delta(state, event.type === "text-delta" ? "text" : "reasoning", event.delta))
    case "tool-call-delta":
      return Effect.succeed([{ ...state, toolCalls: [...state.toolCalls, event] }, []])
    case "finish":
      return Effect.map(toolCallParts(fromEvents(state.toolCalls).toolCalls ?? []), (calls) => [
        initial,
        [...close(state), ...calls, finishPart(event.reason, event.usage)]
      ])
    case "restart":
      return state.blocks === 0
        ? Effect.succeed([{ ...state, toolCalls: [] }, []])
        : Effect.fail(toReason(event.error))
    case "retrying":
    case "fallback":
    case "cooldown":
      return Effect.succeed([state, []])
  }
}

const raise =
  (method: string) =>
  (reason: Reason): AiError.AiError =>
    AiError.make({ module: "ResilientLanguageModel", method, reason })

/**
 * Builds the `LanguageModel` over the current `ResilientChat`.
 *
 * **Details**
 *
 * - The prompt becomes a `ChatRequest`: system, user and assistant text,
 *   and each tool result as a `tool` message (`toolCallId`, `name`; the
 *   result as text, its `modelOutput` when the tool has one). Tools are
 *   sent with their JSON Schema.
 * - `streamText` turns events into parts: text and reasoning deltas inside
 *   `text-start`/`-end` and `reasoning-start`/`-end` blocks; tool call pieces
 *   assembled into one `tool-call` part each when the answer finishes; then
 *   `finish` with the reason and usage. `retrying` and `fallback` are not
 *   parts: `ResilientChat` logs them, counts them in its metrics and traces
 *   each attempt in its own span.
 * - `generateText` calls `ResilientChat.complete`: one `text` part, the tool
 *   calls and `finish`.
 * - Failures are `AiError`s (module `"ResilientLanguageModel"`) mapped by
 *   `AiErrorMapping.toReason`: `isRetryable` and `retryAfter` as the
 *   `ChatError` had them, after `ResilientChat` has spent its own retries.
 *
 * **Gotchas**
 *
 * - Under `midStream: "restart"`, parts already emitted cannot be withdrawn:
 *   a `restart` after any text or reasoning part fails the stream with the
 *   error that broke the answer (retryable). `generateText` is unaffected (it
 *   gets the whole answer), as is the default `"continue"`.
 * - A chat request has no field for an assistant's tool calls, so those parts
 *   of the history are not sent (only the `tool` messages with the results):
 *   servers that insist on the pairing (OpenAI) reject the second round.
 * - `toolChoice`: `"none"` sends no tools and `{ tool }` only that tool;
 *   `"required"` cannot be enforced (the model may answer with text).
 * - Files in user messages fail with `InvalidUserInputError`;
 *   provider-defined tools with `ToolConfigurationError`. Reasoning and files
 *   in assistant history are not sent.
 * - A JSON `responseFormat` (`generateObject`) is not sent: ask for JSON in
 *   the prompt; `effect/ai` decodes the answer text.
 * - `generateText` has no reasoning parts: a `ChatCompletion` does not keep
 *   reasoning.
 *
 * @since 0.2.0
 */
export const make = Effect.fnUntraced(function* (options: Options) {
  const chat = yield* ResilientChat
  return yield* LanguageModel.make({
    generateText: (provider) =>
      toRequest(provider, options).pipe(
        Effect.flatMap((request) => Effect.mapError(chat.complete(request), toReason)),
        Effect.flatMap((completion) =>
          Effect.map(
            toolCallParts(completion.toolCalls ?? []),
            (calls): Array<Response.PartEncoded> => [
              ...(completion.text === "" ? [] : [{ type: "text" as const, text: completion.text }]),
              ...calls,
              finishPart(completion.finishReason, completion.usage)
            ]
          )
        ),
        Effect.mapError(raise("generateText"))
      ),
    streamText: (provider) =>
      Stream.unwrap(
        Effect.map(toRequest(provider, options), (request) =>
          chat.stream(request).pipe(
            Stream.mapError(toReason),
            Stream.mapAccumEffect(() => initial, step)
          )
        )
      ).pipe(Stream.mapError(raise("streamText")))
  })
})

/**
 * The `LanguageModel` over a `ResilientChat`.
 *
 * **Example**
 *
 * ```ts
 * const Model = ResilientLanguageModel.layer({ model: "gpt-4o-mini" }).pipe(
 *   Layer.provide(ResilientChat.layer()),
 *   Layer.provide(OpenAiChatModel.layerConfig())
 * )
 * const text = LanguageModel.streamText({ prompt: "Tell me about the sea" }).pipe(Stream.provide(Model))
 * ```
 *
 * @since 0.2.0
 */
export const layer = (options: Options): Layer.Layer<LanguageModel.LanguageModel, never, ResilientChat> =>
  Layer.effect(LanguageModel.LanguageModel, make(options))
