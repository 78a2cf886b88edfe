/**
 * `ChatRequest` → Chat Completions request parameters, and a non-streaming
 * `chat.completion` → `ChatCompletion`. Pure.
 *
 * @internal
 */
import type { ChatCompletion, ChatError, ChatRequest } from "@steadystream/core"
import * as Effect from "effect/Effect"
import type {
  ChatCompletionMessageParam,
  ChatCompletion as OpenAiCompletion
} from "openai/resources/chat/completions"
import * as Chunks from "./chunks.ts"
import * as Dialect from "./dialect.ts"
import * as Errors from "./errors.ts"

const toMessage = (message: ChatRequest.ChatMessage): ChatCompletionMessageParam => {
  const name = message.name === undefined ? {} : { name: message.name }
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content, ...name }
    case "user":
      return { role: "user", content: message.content, ...name }
    case "assistant":
      return { role: "assistant", content: message.content, ...name }
    case "tool":
      return { role: "tool", content: message.content, tool_call_id: message.toolCallId ?? "" }
  }
}

/** The request parameters in the server's dialect, without `stream`. */
export const toParams = (
  request: ChatRequest.ChatRequest,
  dialect: Dialect.Dialect = Dialect.openAi
): Dialect.Params => {
  const params: Dialect.Params = {
    model: request.model,
    messages: request.messages.map(toMessage)
  }
  if (request.temperature !== undefined) params.temperature = request.temperature
  if (request.topP !== undefined) params.top_p = request.topP
  if (request.maxTokens !== undefined) params[dialect.maxTokensField] = request.maxTokens
  if (request.stop !== undefined) params.stop = [...request.stop]
  if (request.user !== undefined) params.user = request.user
  if (request.tools !== undefined && request.tools.length > 0) {
    params.tools = request.tools.map((tool) => ({
      type: "function",
      function: {
        name: tool.name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        ...(tool.parameters === undefined ? {} : { parameters: { ...tool.parameters } })
      }
    }))
  }
  return Dialect.markContinuation(params, dialect.continuation)
}

/**
 * A non-streaming answer → `ChatCompletion`. Fails with `ContentFiltered` for
 * `content_filter` with no content and for a refusal (`message.refusal`, kept
 * in `refusal`); with the mapped error for an `error` object in the body
 * (OpenRouter reports a failed generation that way on HTTP 200) and
 * `ServerError` for `finish_reason: "error"`; with `MalformedResponse` for a
 * missing choice. Reasoning (`reasoning_content`, `reasoning`) is not text:
 * it is dropped.
 */
export const fromCompletion = (
  data: OpenAiCompletion,
  context: Errors.Context
): Effect.Effect<ChatCompletion.ChatCompletion, ChatError.ChatError> => {
  const error = (data as { readonly error?: unknown }).error
  if (error !== undefined && error !== null) return Effect.fail(Errors.fromInBand(error, context))
  const choice = data.choices?.[0]
  if (choice === undefined) {
    return Effect.fail(
      Errors.fromInBand({ message: "The completion has no choices", type: "malformed" }, context)
    )
  }
  const text = choice.message?.content ?? ""
  const toolCalls = (choice.message?.tool_calls ?? []).flatMap((call) =>
    call.type === "function"
      ? [{ id: call.id, name: call.function.name, arguments: call.function.arguments }]
      : []
  )
  const raw: string | null = choice.finish_reason ?? null
  if (raw === "error") return Effect.fail(Errors.finishedWithError(context))
  const refusal = choice.message?.refusal
  if (typeof refusal === "string" && refusal.length > 0) return Effect.fail(Errors.refused(context, refusal))
  if (raw === "content_filter" && text.length === 0 && toolCalls.length === 0) {
    return Effect.fail(
      Errors.fromInBand(
        { message: "The answer was blocked by the content filter", code: "content_filter" },
        context
      )
    )
  }
  const completion: {
    -readonly [K in keyof ChatCompletion.ChatCompletion]: ChatCompletion.ChatCompletion[K]
  } = {
    text,
    finishReason: raw === null ? "other" : Chunks.toFinishReason(raw)
  }
  if (raw !== null) completion.rawFinishReason = raw
  if (toolCalls.length > 0) completion.toolCalls = toolCalls
  if (data.usage !== undefined && data.usage !== null) completion.usage = Chunks.toUsage(data.usage)
  if (typeof data.model === "string") completion.model = data.model
  if (context.requestId !== undefined) completion.requestId = context.requestId
  return Effect.succeed(completion)
}
