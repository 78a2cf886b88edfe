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
 *
 * @since 0.1.0
 */
export type Fault =
  | { readonly _tag: "Reset"; readonly afterChunks: number }
  | { readonly _tag: "Close"; readonly afterChunks: number }
  | { readonly _tag: "Stall"; readonly afterChunks: number; readonly keepAlive?: Duration.Input }
  | { readonly _tag: "ErrorFrame"; readonly afterChunks: number; readonly error?: ErrorBody }
  | { readonly _tag: "Malformed"; readonly afterChunks: number; readonly data?: string }

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
  /** On a continuation request, repeat the last N characters or words of the prefix first. */
  readonly overlap?: { readonly chars: number } | { readonly words: number }
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
