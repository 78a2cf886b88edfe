/**
 * `chat.completion.chunk` → `ModelEvent`: the adapter's hot loop, kept tiny
 * and allocation-light. Pure apart from the caller's `State`.
 *
 * @internal
 */
import type { FinishReason, ModelEvent, StreamEvent, Usage } from "@steadystream/core"
import type { ChatCompletionChunk } from "openai/resources/chat/completions"
import type { CompletionUsage } from "openai/resources/completions"

/**
 * A chunk's `delta` as OpenAI-compatible servers send it: the SDK's fields
 * plus reasoning (DeepSeek `reasoning_content`; vLLM and OpenRouter
 * `reasoning`).
 */
type Delta = ChatCompletionChunk.Choice.Delta & {
  readonly reasoning_content?: string | null
  readonly reasoning?: string | null
}

/** What a stream has seen so far. Mutated in place by {@link mapChunk}. */
export interface State {
  /** The text delivered so far. */
  delivered: string
  /** The model's refusal so far (`delta.refusal`): never text. */
  refusal: string
  /** Whether any tool-call delta was delivered. */
  toolCalls: boolean
  /** The provider's finish reason, once seen. */
  rawReason: string | undefined
  usage: Usage.Usage | undefined
}

/** A fresh state. */
export const makeState = (): State => ({
  delivered: "",
  refusal: "",
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

/**
 * Appends the events one chunk carries to `out` (reasoning before text) and
 * records its refusal, finish reason and usage.
 *
 * **Gotchas**
 *
 * A server that sends the same reasoning under both names (vLLM did, while it
 * renamed `reasoning_content` to `reasoning`) gets it once:
 * `reasoning_content` when it is non-empty, else `reasoning`.
 */
export const mapChunk = (
  chunk: ChatCompletionChunk,
  state: State,
  out: Array<ModelEvent.ModelEvent>
): void => {
  const choice = chunk.choices[0]
  if (choice !== undefined) {
    const delta: Delta | undefined | null = choice.delta
    if (delta !== undefined && delta !== null) {
      let reasoning = delta.reasoning_content
      if (typeof reasoning !== "string" || reasoning.length === 0) reasoning = delta.reasoning
      if (typeof reasoning === "string" && reasoning.length > 0) {
        out.push({ type: "reasoning-delta", delta: reasoning })
      }
      const refusal = delta.refusal
      if (typeof refusal === "string") state.refusal += refusal
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
