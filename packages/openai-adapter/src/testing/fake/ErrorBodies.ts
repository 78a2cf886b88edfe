/**
 * Canned OpenAI error responses, worded as the real API words them: the
 * HTTP errors a scenario scripts, and the bodies the server sends on its own.
 *
 * @since 0.1.0
 */
import * as Step from "./Step.ts"

/**
 * The `server_error` body: a 500's, and an in-band error frame's by default.
 *
 * @since 0.1.0
 */
export const serverErrorBody: Step.ErrorBody = {
  message: "The server had an error while processing your request. Sorry about that!",
  type: "server_error",
  param: null,
  code: null
}

/**
 * HTTP 429 `rate_limit_exceeded`, optionally with a `Retry-After`.
 *
 * @since 0.1.0
 */
export const rateLimited = (retryAfter?: Step.RetryAfter): Step.HttpError =>
  Step.httpError(
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
 * HTTP 429 `insufficient_quota`: the account is out of credit.
 *
 * @since 0.1.0
 */
export const insufficientQuota: Step.HttpError = Step.httpError(429, {
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
export const unauthorized: Step.HttpError = Step.httpError(401, {
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
export const contextLengthExceeded: Step.HttpError = Step.httpError(400, {
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
export const serverError = (
  options: Omit<Step.HttpError, "_tag" | "status" | "error"> = {}
): Step.HttpError => Step.httpError(500, serverErrorBody, options)

/**
 * HTTP 503: the engine is overloaded.
 *
 * @since 0.1.0
 */
export const overloaded = (options: Omit<Step.HttpError, "_tag" | "status" | "error"> = {}): Step.HttpError =>
  Step.httpError(
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
 * The 404 body for a route the server does not have.
 *
 * @since 0.1.0
 */
export const invalidUrl = (method: string, path: string): Step.ErrorBody => ({
  message: `Invalid URL (${method} ${path})`,
  type: "invalid_request_error"
})

/**
 * The 400 body for a request body that is not JSON.
 *
 * @since 0.1.0
 */
export const unparseableJson: Step.ErrorBody = {
  message: "We could not parse the JSON body of your request.",
  type: "invalid_request_error"
}
