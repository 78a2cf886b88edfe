/**
 * How one OpenAI-compatible server differs from OpenAI on the request side:
 * how it continues a final assistant message, and which field caps the
 * answer's tokens. Pure.
 *
 * @internal
 */
import type {
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageParam
} from "openai/resources/chat/completions"

/** How the server continues a request whose last message is an assistant message. */
export type Continuation = "instruction" | "continue-final-message" | "prefix"

/** The request field that caps the answer's tokens. */
export type MaxTokensField = "max_completion_tokens" | "max_tokens"

/** A server's request dialect, every default filled in. */
export interface Dialect {
  readonly continuation: Continuation
  readonly maxTokensField: MaxTokensField
}

/** OpenAI's own: continuation by instruction, `max_completion_tokens`. */
export const openAi: Dialect = { continuation: "instruction", maxTokensField: "max_completion_tokens" }

/**
 * Request fields that the SDK's types do not know; the SDK sends unknown body
 * fields as they are (its documented way for undocumented parameters).
 */
export interface ExtraBody {
  /** vLLM, SGLang, llama.cpp: continue the final assistant message instead of answering it. */
  continue_final_message?: boolean
  /** vLLM: must be explicitly `false` beside `continue_final_message` (its default is `true`). */
  add_generation_prompt?: boolean
}

/** The request parameters, with the dialect's extra fields. */
export type Params = ChatCompletionCreateParamsBase & ExtraBody

/**
 * Marks a request whose last message is an assistant message as a native
 * continuation in the server's own terms: `continue_final_message` and
 * `add_generation_prompt: false`, or `prefix: true` on that message. Other
 * requests, and `"instruction"`, are returned as they are.
 */
export const markContinuation = (params: Params, continuation: Continuation): Params => {
  if (continuation === "instruction") return params
  const messages = params.messages
  const last = messages[messages.length - 1]
  if (last?.role !== "assistant") return params
  if (continuation === "continue-final-message") {
    return { ...params, continue_final_message: true, add_generation_prompt: false }
  }
  const prefixed: ChatCompletionMessageParam & { readonly prefix: true } = { ...last, prefix: true }
  return { ...params, messages: [...messages.slice(0, -1), prefixed] }
}
