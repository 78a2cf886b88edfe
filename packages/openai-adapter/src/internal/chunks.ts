/**
 * `chat.completion.chunk` → `ModelEvent`: the adapter's hot loop, kept tiny
 * and allocation-light. Pure apart from the caller's `State`.
 *
 * @internal
 */
import type { FinishReason, ModelEvent, StreamEvent, Usage } from "@steadystream/core"
import type { ChatCompletionChunk } from "openai/resources/chat/completions"
import type { CompletionUsage } from "openai/resources/completions"

/** What a stream has seen so far. Mutated in place by {@link mapChunk}. */
export interface State {
  /** The text delivered so far. */
  delivered: string
  /** Whether any tool-call delta was delivered. */
  toolCalls: boolean
  /** The provider's finish reason, once seen. */
  rawReason: string | undefined
  usage: Usage.Usage | undefined
}

/** A fresh state. */
export const makeState = (): State => ({
  delivered: "",
  toolCalls: false,
  rawReason: undefined,
  usage: undefined
})

/** OpenAI token usage → core `Usage`. */
export const toUsage = (usage: CompletionUsage): Usage.Usage => ({
  inputTokens: usage.prompt_tokens,
  outputTokens: usage.completion_tokens,
  totalTokens: usage.total_tokens
})

/** OpenAI's raw finish reason → the closed core set. */
export const toFinishReason = (raw: string): FinishReason.FinishReason => {
  switch (raw) {
    case "stop":
      return "stop"
    case "length":
      return "length"
    case "content_filter":
      return "content-filter"
    case "tool_calls":
    case "function_call":
      return "tool-calls"
    default:
      return "other"
  }
}

/** Appends the events one chunk carries to `out` and records its finish reason and usage. */
export const mapChunk = (
  chunk: ChatCompletionChunk,
  state: State,
  out: Array<ModelEvent.ModelEvent>
): void => {
  const choice = chunk.choices[0]
  if (choice !== undefined) {
    const delta = choice.delta
    if (delta !== undefined && delta !== null) {
      const content = delta.content
      if (typeof content === "string" && content.length > 0) {
        state.delivered += content
        out.push({ type: "text-delta", delta: content })
      }
      const calls = delta.tool_calls
      if (calls !== undefined && calls !== null) {
        for (const call of calls) {
          state.toolCalls = true
          out.push(toolCallDelta(call))
        }
      }
    }
    if (typeof choice.finish_reason === "string") state.rawReason = choice.finish_reason
  }
  if (chunk.usage !== undefined && chunk.usage !== null) state.usage = toUsage(chunk.usage)
}

const toolCallDelta = (call: ChatCompletionChunk.Choice.Delta.ToolCall): StreamEvent.ToolCallDelta => {
  const event: { -readonly [K in keyof StreamEvent.ToolCallDelta]: StreamEvent.ToolCallDelta[K] } = {
    type: "tool-call-delta",
    index: call.index,
    argumentsDelta: call.function?.arguments ?? ""
  }
  if (typeof call.id === "string") event.id = call.id
  if (typeof call.function?.name === "string") event.name = call.function.name
  return event
}

/** The one `finish` event, from the state at `[DONE]` (requires `rawReason`). */
export const finishEvent = (state: State, rawReason: string): StreamEvent.Finish =>
  state.usage === undefined
    ? { type: "finish", reason: toFinishReason(rawReason), rawReason }
    : { type: "finish", reason: toFinishReason(rawReason), rawReason, usage: state.usage }
