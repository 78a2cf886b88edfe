/**
 * The scenario DSL's data: what one `/v1/chat/completions` call does (a
 * `Step`), and a whole script of them (a `Scenario`), as plain data.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"

/**
 * An OpenAI-shaped error object, as sent in `{"error": …}` bodies and
 * in-band frames. A `message` containing `{apiKey}` has it replaced by the
 * bearer token the client sent (to prove clients redact what servers echo).
 *
 * @since 0.1.0
 */
export interface ErrorBody {
  readonly message: string
  readonly type: string
  readonly param?: string | null
  readonly code?: string | null
}

/**
 * How a step states its `Retry-After`: `retry-after` in seconds,
 * `retry-after-ms`, or `retry-after` as an HTTP date `secondsFromNow` seconds
 * after the response is sent.
 *
 * @since 0.1.0
 */
export type RetryAfter =
  | { readonly _tag: "Seconds"; readonly seconds: number }
  | { readonly _tag: "Millis"; readonly millis: number }
  | { readonly _tag: "HttpDate"; readonly secondsFromNow: number }

/**
 * What goes wrong part-way through an answer, after `afterChunks` content
 * chunks (role and finish chunks do not count).
 *
 * - `Reset`: the TCP connection is reset (RST).
 * - `Close`: the body ends cleanly without a finish reason and without `[DONE]`.
 * - `Stall`: nothing but `: keep-alive` comments every `keepAlive`, until the
 *   client gives up.
 * - `ErrorFrame`: an in-band `data: {"error": …}` frame, then the body ends.
 * - `Malformed`: a `data:` frame that is not JSON (or, with `data`, that
 *   payload, e.g. a chunk of the wrong shape), then the body ends.
 * - `FinishError`: a chunk with `delta: {content: ""}` and
 *   `finish_reason: "error"` (with a top-level `error` object when given:
 *   OpenRouter's shape), then `data: [DONE]`, as if the answer had ended.
 *   (The Responses API has no finish reason: there it is an `error` event.)
 *
 * @since 0.1.0
 */
export type Fault =
  | { readonly _tag: "Reset"; readonly afterChunks: number }
  | { readonly _tag: "Close"; readonly afterChunks: number }
  | { readonly _tag: "Stall"; readonly afterChunks: number; readonly keepAlive?: Duration.Input }
  | { readonly _tag: "ErrorFrame"; readonly afterChunks: number; readonly error?: ErrorBody }
  | { readonly _tag: "Malformed"; readonly afterChunks: number; readonly data?: string }
  | { readonly _tag: "FinishError"; readonly afterChunks: number; readonly error?: InBandError }

/**
 * The `error` object OpenRouter puts at the top of a chunk whose generation
 * failed: `code` is an HTTP status (a number) or a string such as
 * `"server_error"`.
 *
 * @since 0.2.0
 */
export interface InBandError {
  readonly code: number | string
  readonly message: string
}

/**
 * The repetition a continuation starts with, as real models add it:
 *
 * - `"cut-word"`: the last word of the prefix from its start (a break inside
 *   "sev" continued as "seventy …");
 * - `"last-sentence"`: the prefix's last sentence (the one it breaks in, or
 *   the last complete one when it ends at a sentence end);
 * - `"anchor"`: the anchor a continuation instruction asks for (a quoted
 *   tail of the prefix found in the instruction; else its last ~40
 *   characters, starting at a word).
 *
 * @since 0.2.0
 */
export type Echo = "cut-word" | "last-sentence" | "anchor"

/**
 * The field a server reads to continue a final assistant message natively:
 * `continue_final_message` (vLLM, SGLang, llama.cpp; vLLM also wants
 * `add_generation_prompt: false`) or `prefix: true` on that message
 * (DeepSeek, Mistral).
 *
 * @since 0.2.0
 */
export type NativeField = "continue_final_message" | "prefix"

/**
 * How an answer treats a continuation request (an assistant prefix last),
 * the ways real models do:
 *
 * - `Continue` (the default): the rest of the text, after an optional
 *   `preamble` ("Sure! Continuing from where I left off: ") and `echo`.
 * - `Restart`: a new answer to the question in other words (`text`, default
 *   `Texts.restartText`), as if the prefix were not there.
 * - `Replay`: the whole text again from its start, word for word.
 * - `Native`: a server that continues natively: exactly the rest when the
 *   request carries `field` (`continue_final_message` with
 *   `add_generation_prompt` anything but `false` is vLLM's 400); without it
 *   the chat template opens a new turn and the model starts over (`Restart`).
 *
 * @since 0.2.0
 */
export type Continuation =
  | { readonly _tag: "Continue"; readonly preamble?: string; readonly echo?: Echo }
  | { readonly _tag: "Restart"; readonly text?: string }
  | { readonly _tag: "Replay" }
  | { readonly _tag: "Native"; readonly field: NativeField }

/**
 * A reasoning phase streamed before the answer's text: `text` (default
 * `Texts.reasoningText`) by word, under `field` (`"reasoning_content"`,
 * DeepSeek's and the default; `"reasoning"`, vLLM's and OpenRouter's), each
 * piece after `delay` (default: the answer's `delay`).
 *
 * @since 0.2.0
 */
export interface Reasoning {
  readonly text?: string
  readonly field?: "reasoning_content" | "reasoning"
  readonly delay?: Duration.Input
}

/**
 * Whose chunk shapes the stream uses besides OpenAI's own:
 *
 * - `"openrouter"`: `: OPENROUTER PROCESSING` comments before the first
 *   chunk, a `provider` on every chunk, `native_finish_reason` on choices;
 * - `"azure"`: a first chunk with `choices: []` and
 *   `prompt_filter_results`, `content_filter_results` on choices, and a
 *   filter-annotation chunk without `delta` after the finish.
 *
 * @since 0.2.0
 */
export type Shape = "openai" | "openrouter" | "azure"

/**
 * A complete tool call the model makes; its arguments are streamed in pieces.
 *
 * @since 0.1.0
 */
export interface ToolCall {
  readonly id: string
  readonly name: string
  readonly arguments: string
}

/**
 * An answer: the scripted text (or the server's default text), chunked
 * deterministically, optionally with tool calls, a delay per chunk, a fault.
 *
 * @since 0.1.0
 */
export interface Answer {
  readonly _tag: "Answer"
  /** The full answer. Default: the server's `text`. */
  readonly text?: string
  /** Chunk by this many code points instead of by word. */
  readonly chunkChars?: number
  /** Wait this long before each content chunk (slow drip). */
  readonly delay?: Duration.Input
  /** Default `"stop"`, or `"tool_calls"` when there are tool calls and no text. */
  readonly finishReason?: "stop" | "length" | "content_filter" | "tool_calls"
  readonly toolCalls?: ReadonlyArray<ToolCall>
  /**
   * On a continuation request, repeat the last N characters or words of the
   * prefix first (when `continuation` sets no `echo`).
   */
  readonly overlap?: { readonly chars: number } | { readonly words: number }
  /** How a continuation request is answered. Default: exactly the rest (`Continue`). */
  readonly continuation?: Continuation
  /** Stream a reasoning phase first (non-streamed: `message.<field>`). */
  readonly reasoning?: Reasoning
  /**
   * Refuse: these words go out as `delta.refusal` pieces (non-streamed:
   * `message.refusal`, with `content: null`) instead of the text.
   */
  readonly refusal?: string
  /** Default `"openai"`. */
  readonly shape?: Shape
  /** Write every frame holding a multi-byte character in two TCP writes, split inside that character. */
  readonly splitUtf8?: boolean
  /** Send the finish and usage chunks but end the body without `data: [DONE]`. */
  readonly omitDone?: boolean
  readonly fault?: Fault
}

/**
 * An HTTP error response with an OpenAI error body.
 *
 * @since 0.1.0
 */
export interface HttpError {
  readonly _tag: "HttpError"
  readonly status: number
  readonly error: ErrorBody
  readonly retryAfter?: RetryAfter
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * The connection is reset before any response header is sent.
 *
 * @since 0.1.0
 */
export interface ResetBeforeHeaders {
  readonly _tag: "ResetBeforeHeaders"
}

/**
 * What one `/v1/chat/completions` call does.
 *
 * @since 0.1.0
 */
export type Step = Answer | HttpError | ResetBeforeHeaders

/**
 * A whole script: `steps` in call order, then `fallback` (default: a plain
 * answer) for every later call; `text` is the default answer text.
 *
 * @since 0.1.0
 */
export interface Scenario {
  readonly steps: ReadonlyArray<Step>
  readonly fallback?: Step
  readonly text?: string
}

/**
 * A successful answer (with any of the `Answer` options).
 *
 * @since 0.1.0
 */
export const answer = (options: Omit<Answer, "_tag"> = {}): Answer => ({ _tag: "Answer", ...options })

/**
 * An HTTP error with an OpenAI error body.
 *
 * @since 0.1.0
 */
export const httpError = (
  status: number,
  error: ErrorBody,
  options: Omit<HttpError, "_tag" | "status" | "error"> = {}
): HttpError => ({
  _tag: "HttpError",
  status,
  error,
  ...options
})

/**
 * The connection is reset before the response headers.
 *
 * @since 0.1.0
 */
export const resetBeforeHeaders: ResetBeforeHeaders = { _tag: "ResetBeforeHeaders" }

/**
 * `Retry-After` in whole seconds.
 *
 * @since 0.1.0
 */
export const retryAfterSeconds = (seconds: number): RetryAfter => ({ _tag: "Seconds", seconds })

/**
 * `retry-after-ms`.
 *
 * @since 0.1.0
 */
export const retryAfterMillis = (millis: number): RetryAfter => ({ _tag: "Millis", millis })

/**
 * `Retry-After` as an HTTP date, `secondsFromNow` after the response.
 *
 * @since 0.1.0
 */
export const retryAfterHttpDate = (secondsFromNow: number): RetryAfter => ({
  _tag: "HttpDate",
  secondsFromNow
})
