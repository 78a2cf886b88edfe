/**
 * Scripts for `FakeOpenAiServer`, as plain data: one `Step` per
 * `/v1/chat/completions` call, in order, then a fallback step for every call
 * after the list runs out. Named built-in scenarios serve the CLI and demo.
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
 * - `Malformed`: a `data:` frame that is not JSON, then the body ends.
 *
 * @since 0.1.0
 */
export type Fault =
  | { readonly _tag: "Reset"; readonly afterChunks: number }
  | { readonly _tag: "Close"; readonly afterChunks: number }
  | { readonly _tag: "Stall"; readonly afterChunks: number; readonly keepAlive?: Duration.Input }
  | { readonly _tag: "ErrorFrame"; readonly afterChunks: number; readonly error?: ErrorBody }
  | { readonly _tag: "Malformed"; readonly afterChunks: number }

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
 * The default answer text: 21 words, ASCII only.
 *
 * @since 0.1.0
 */
export const defaultText =
  "The sea covers about seventy percent of the Earth and holds most of its water. Its currents carry heat " +
  "from the tropics toward the poles, and its surface breathes in a large share of the carbon we release. " +
  "Beneath the waves lie mountain ranges longer than any on land, and trenches deeper than Everest is tall."

/**
 * A text full of multi-byte characters (2, 3 and 4 UTF-8 bytes), for split
 * UTF-8 tests.
 *
 * @since 0.1.0
 */
export const unicodeText =
  "Café crème, naïve résumé — ☕ and 🚀 to go. Ünïcödé survives split writes: 日本語 ✓"

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
 * HTTP 429 `rate_limit_exceeded`, optionally with a `Retry-After`.
 *
 * @since 0.1.0
 */
export const rateLimited = (retryAfter?: RetryAfter): HttpError =>
  httpError(
    429,
    {
      message: "Rate limit reached for requests. Please try again later.",
      type: "requests",
      param: null,
      code: "rate_limit_exceeded"
    },
    retryAfter === undefined ? {} : { retryAfter }
  )

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

/**
 * HTTP 429 `insufficient_quota`: the account is out of credit.
 *
 * @since 0.1.0
 */
export const insufficientQuota: HttpError = httpError(429, {
  message: "You exceeded your current quota, please check your plan and billing details.",
  type: "insufficient_quota",
  param: null,
  code: "insufficient_quota"
})

/**
 * HTTP 401 `invalid_api_key`, echoing the key the client sent (real OpenAI
 * masks it; this fake is harsher on purpose).
 *
 * @since 0.1.0
 */
export const unauthorized: HttpError = httpError(401, {
  message:
    "Incorrect API key provided: {apiKey}. You can find your API key at https://platform.openai.com/account/api-keys.",
  type: "invalid_request_error",
  param: null,
  code: "invalid_api_key"
})

/**
 * HTTP 400 `context_length_exceeded`.
 *
 * @since 0.1.0
 */
export const contextLengthExceeded: HttpError = httpError(400, {
  message:
    "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
  type: "invalid_request_error",
  param: "messages",
  code: "context_length_exceeded"
})

/**
 * HTTP 500 `server_error`.
 *
 * @since 0.1.0
 */
export const serverError = (options: Omit<HttpError, "_tag" | "status" | "error"> = {}): HttpError =>
  httpError(
    500,
    {
      message: "The server had an error while processing your request. Sorry about that!",
      type: "server_error",
      param: null,
      code: null
    },
    options
  )

/**
 * HTTP 503: the engine is overloaded.
 *
 * @since 0.1.0
 */
export const overloaded = (options: Omit<HttpError, "_tag" | "status" | "error"> = {}): HttpError =>
  httpError(
    503,
    {
      message: "The engine is currently overloaded, please try again later.",
      type: "server_error",
      param: null,
      code: null
    },
    options
  )

/**
 * The connection is reset before the response headers.
 *
 * @since 0.1.0
 */
export const resetBeforeHeaders: ResetBeforeHeaders = { _tag: "ResetBeforeHeaders" }

/**
 * An answer whose connection is reset after `afterChunks` content chunks.
 *
 * @since 0.1.0
 */
export const resetAfter = (afterChunks: number, options: Omit<Answer, "_tag" | "fault"> = {}): Answer =>
  answer({ ...options, fault: { _tag: "Reset", afterChunks } })

/**
 * An answer whose body ends cleanly after `afterChunks` content chunks,
 * without finish reason and without `[DONE]`.
 *
 * @since 0.1.0
 */
export const closeAfter = (afterChunks: number, options: Omit<Answer, "_tag" | "fault"> = {}): Answer =>
  answer({ ...options, fault: { _tag: "Close", afterChunks } })

/**
 * An answer that stalls after `afterChunks` content chunks, sending only
 * `: keep-alive` comments every `keepAlive` (default: the server's
 * `keepAlive`, 1 second unless configured).
 *
 * @since 0.1.0
 */
export const stallAfter = (
  afterChunks: number,
  options: Omit<Answer, "_tag" | "fault"> & { readonly keepAlive?: Duration.Input } = {}
): Answer => {
  const { keepAlive, ...rest } = options
  return answer({
    ...rest,
    fault:
      keepAlive === undefined ? { _tag: "Stall", afterChunks } : { _tag: "Stall", afterChunks, keepAlive }
  })
}

/**
 * An answer interrupted after `afterChunks` content chunks by an in-band
 * `data: {"error": …}` frame (default: a `server_error`).
 *
 * @since 0.1.0
 */
export const errorFrameAfter = (
  afterChunks: number,
  error: ErrorBody = {
    message: "The server had an error while processing your request. Sorry about that!",
    type: "server_error",
    param: null,
    code: null
  },
  options: Omit<Answer, "_tag" | "fault"> = {}
): Answer => answer({ ...options, fault: { _tag: "ErrorFrame", afterChunks, error } })

/**
 * An answer broken after `afterChunks` content chunks by a frame that is not
 * valid JSON.
 *
 * @since 0.1.0
 */
export const malformedAfter = (afterChunks: number, options: Omit<Answer, "_tag" | "fault"> = {}): Answer =>
  answer({ ...options, fault: { _tag: "Malformed", afterChunks } })

/**
 * The names of the built-in scenarios.
 *
 * @since 0.1.0
 */
export type Name =
  | "happy"
  | "flaky"
  | "rate-limited"
  | "outage"
  | "quota"
  | "stall"
  | "truncated"
  | "slow"
  | "unicode"

/**
 * Built-in scenarios for the CLI and the demo.
 *
 * **Details**
 *
 * - `happy`: every call succeeds.
 * - `flaky`: 429 with `retry-after: 1`, then a reset after 5 chunks, then success.
 * - `rate-limited`: two 429s with `retry-after-ms: 500`, then success.
 * - `outage`: every call is a 503.
 * - `quota`: every call is a 429 `insufficient_quota`.
 * - `stall`: the first answer stalls after 4 chunks (keep-alive comments), then success.
 * - `truncated`: the first answer ends after 6 chunks without `[DONE]`, then success.
 * - `slow`: every answer drips one chunk per 150 ms.
 * - `unicode`: multi-byte text, every frame split inside a character.
 *
 * @since 0.1.0
 */
export const named: Readonly<Record<Name, Scenario>> = {
  happy: { steps: [] },
  flaky: { steps: [rateLimited(retryAfterSeconds(1)), resetAfter(5)] },
  "rate-limited": { steps: [rateLimited(retryAfterMillis(500)), rateLimited(retryAfterMillis(500))] },
  outage: { steps: [], fallback: overloaded() },
  quota: { steps: [], fallback: insufficientQuota },
  stall: { steps: [stallAfter(4)] },
  truncated: { steps: [closeAfter(6)] },
  slow: { steps: [], fallback: answer({ delay: "150 millis" }) },
  unicode: { steps: [], text: unicodeText, fallback: answer({ splitUtf8: true, chunkChars: 3 }) }
}

/**
 * The built-in scenario names, in a stable order.
 *
 * @since 0.1.0
 */
export const names: ReadonlyArray<Name> = Object.keys(named) as Array<Name>

/**
 * Looks up a built-in scenario by name.
 *
 * @since 0.1.0
 */
export const fromName = (name: string): Scenario | undefined =>
  Object.hasOwn(named, name) ? named[name as Name] : undefined
