/**
 * `ChatRequest` → Responses API request parameters, and a non-streaming
 * `response` → `ChatCompletion`. Pure.
 *
 * @internal
 */
import type { ChatCompletion, ChatError, ChatRequest } from "@steadystream/core"
import * as Effect from "effect/Effect"
import type {
  ResponseCreateParamsBase,
  ResponseInputItem,
  Response as ResponsesResponse
} from "openai/resources/responses/responses"
import * as Errors from "./errors.ts"
import * as Events from "./responsesEvents.ts"

const toItem = (message: ChatRequest.ChatMessage): ResponseInputItem =>
  message.role === "tool"
    ? { type: "function_call_output", call_id: message.toolCallId ?? "", output: message.content }
    : { type: "message", role: message.role, content: message.content }

/**
 * The request parameters, without `stream` and `background`. `stop` has no
 * Responses equivalent and is not sent.
 */
export const toParams = (request: ChatRequest.ChatRequest): ResponseCreateParamsBase => {
  const params: ResponseCreateParamsBase = {
    model: request.model,
    input: request.messages.map(toItem)
  }
  if (request.temperature !== undefined) params.temperature = request.temperature
  if (request.topP !== undefined) params.top_p = request.topP
  if (request.maxTokens !== undefined) params.max_output_tokens = request.maxTokens
  if (request.user !== undefined) params.user = request.user
  if (request.tools !== undefined && request.tools.length > 0) {
    params.tools = request.tools.map((tool) => ({
      type: "function",
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      parameters: tool.parameters === undefined ? null : { ...tool.parameters },
      strict: false
    }))
  }
  return params
}

type Json = Readonly<Record<string, unknown>>

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null

/**
 * A non-streaming response → `ChatCompletion`: the text of its messages, its
 * function calls, the finish of its status. A refusal with no text fails with
 * `ContentFiltered` (carrying the refusal); a failed response with its error.
 */
export const fromResponse = (
  data: ResponsesResponse,
  context: Errors.Context
): Effect.Effect<ChatCompletion.ChatCompletion, ChatError.ChatError> =>
  Effect.try({
    try: () => {
      let text = ""
      let refusal = ""
      const toolCalls: Array<ChatCompletion.ToolCall> = []
      const output: ReadonlyArray<unknown> = Array.isArray(data.output) ? data.output : []
      for (const item of output) {
        if (!isObject(item)) continue
        if (item.type === "function_call") {
          toolCalls.push({
            id: String(item.call_id),
            name: String(item.name),
            arguments: String(item.arguments)
          })
        } else if (item.type === "message" && Array.isArray(item.content)) {
          for (const part of item.content as ReadonlyArray<unknown>) {
            if (!isObject(part)) continue
            if (part.type === "output_text" && typeof part.text === "string") text += part.text
            if (part.type === "refusal" && typeof part.refusal === "string") refusal += part.refusal
          }
        }
      }
      if (refusal !== "" && text === "" && toolCalls.length === 0) throw Errors.refused(context, refusal)
      const finish = Events.finishOf(
        data as unknown as Json,
        { delivered: text !== "", toolCalls: toolCalls.length > 0 },
        context
      )
      const completion: {
        -readonly [K in keyof ChatCompletion.ChatCompletion]: ChatCompletion.ChatCompletion[K]
      } = { text, finishReason: finish.reason }
      if (finish.rawReason !== undefined) completion.rawFinishReason = finish.rawReason
      if (toolCalls.length > 0) completion.toolCalls = toolCalls
      if (finish.usage !== undefined) completion.usage = finish.usage
      if (typeof data.model === "string") completion.model = data.model
      if (context.requestId !== undefined) completion.requestId = context.requestId
      return completion
    },
    catch: (error) => error as ChatError.ChatError
  })
