/**
 * The one place where `openai` SDK failures become `ChatError`s: status
 * errors, connection errors, in-band error frames (no status: classified by
 * `code` / `type`), body read failures, malformed JSON and chunks of the
 * wrong shape. Every message is
 * scrubbed of the API key.
 *
 * @internal
 */
import { ChatError } from "@steadystream/core"
import * as Duration from "effect/Duration"
import { Headers } from "effect/http"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai"

/** What the mapper needs to know about the call. */
export interface Context {
  readonly model: string
  /** The API key, to scrub from messages. */
  readonly secret: string
  /** The SDK's request timeout, reported by `Timeout` errors. */
  readonly timeout: Duration.Duration
  /** The request id, when the response headers already arrived. */
  readonly requestId?: string | undefined
}

/** The error context of a call to `model` through a client with this key and timeout. */
export const contextOf = (
  client: { readonly apiKey: Redacted.Redacted<string>; readonly timeout: Duration.Duration },
  model: string,
  requestId?: string
): Context => ({ model, secret: Redacted.value(client.apiKey), timeout: client.timeout, requestId })

/** The provider name on every error. */
export const provider = "openai"

/** Replaces every occurrence of `secret` in `message`. */
export const redact = (message: string, secret: string): string =>
  secret.length === 0 ? message : message.replaceAll(secret, "[REDACTED]")

const common = (
  context: Context,
  message: string,
  status?: number,
  requestId?: string | null
): {
  provider: string
  model: string
  message: string
  status?: number
  requestId?: string
} => {
  const out: { provider: string; model: string; message: string; status?: number; requestId?: string } = {
    provider,
    model: context.model,
    message: redact(message, context.secret)
  }
  if (status !== undefined) out.status = status
  const id = requestId ?? context.requestId
  if (id !== undefined && id !== null && id !== "") out.requestId = id
  return out
}

/**
 * The server's requested delay: `retry-after-ms`, else `retry-after` as
 * seconds or as an HTTP date (measured from `now`, epoch millis).
 */
export const retryAfter = (
  headers: globalThis.Headers | undefined,
  now: number
): Duration.Duration | undefined => {
  if (headers === undefined) return undefined
  const millis = headers.get("retry-after-ms")
  if (millis !== null) {
    const value = Number(millis)
    if (millis.trim() !== "" && Number.isFinite(value) && value >= 0) return Duration.millis(value)
  }
  const header = headers.get("retry-after")
  if (header === null) return undefined
  const parsed = Headers.parseRetryAfter(header.trim())
  return Result.isSuccess(parsed) ? Headers.retryAfterDelay(parsed.success, now) : undefined
}

const withRetryAfter = <A extends object>(fields: A, delay: Duration.Duration | undefined) =>
  delay === undefined ? fields : { ...fields, retryAfter: delay }

/** An OpenAI error object's fields, as far as they are strings. */
export interface ErrorFields {
  readonly message: string
  readonly code: string | undefined
  readonly type: string | undefined
  readonly param: string | undefined
}

const str = (u: unknown): string | undefined => (typeof u === "string" ? u : undefined)

/** Reads `{message, code, type, param}` from an unknown error payload. */
export const fields = (payload: unknown, fallbackMessage = "Unknown error"): ErrorFields => {
  const record = typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>) : {}
  const message =
    str(record.message) ?? (record.message !== undefined ? JSON.stringify(record.message) : fallbackMessage)
  return { message, code: str(record.code), type: str(record.type), param: str(record.param) }
}

/** Classifies by `code` / `type` alone; `undefined` when they say nothing decisive. */
const byCode = (f: ErrorFields, fieldsFor: ReturnType<typeof common>): ChatError.ChatError | undefined => {
  const code = f.code ?? ""
  const type = f.type ?? ""
  if (code === "insufficient_quota" || type === "insufficient_quota")
    return new ChatError.QuotaExceeded(fieldsFor)
  if (code === "context_length_exceeded") return new ChatError.ContextLengthExceeded(fieldsFor)
  if (code === "content_policy_violation" || code === "content_filter" || type === "content_filter") {
    return new ChatError.ContentFiltered(fieldsFor)
  }
  return undefined
}

const issues = (f: ErrorFields) => [{ path: f.param === undefined ? [] : [f.param], message: f.message }]

/** Maps an HTTP error status with its error body and headers. */
export const fromStatus = (
  status: number,
  f: ErrorFields,
  headers: globalThis.Headers | undefined,
  context: Context,
  message: string,
  now: number
): ChatError.ChatError => {
  const base = common(context, message, status, headers?.get("x-request-id"))
  const coded = byCode(f, base)
  if (coded !== undefined) return coded
  switch (status) {
    case 400:
    case 422:
      return new ChatError.InvalidRequest({ ...base, issues: issues(f) })
    case 401:
      return new ChatError.AuthenticationFailed(base)
    case 403:
      return new ChatError.PermissionDenied(base)
    case 404:
      return new ChatError.NotFound(base)
    case 429:
      return new ChatError.RateLimited(withRetryAfter(base, retryAfter(headers, now)))
    case 503:
    case 529:
      return new ChatError.Overloaded(withRetryAfter(base, retryAfter(headers, now)))
  }
  // 408 (request timeout), 409 (lock conflict) and every 5xx are worth another try.
  if (status >= 500 || status === 408 || status === 409) {
    return new ChatError.ServerError(withRetryAfter(base, retryAfter(headers, now)))
  }
  return new ChatError.InvalidRequest({ ...base, issues: issues(f) })
}

/**
 * Maps an in-band error (a `data: {"error": …}` frame, or an SSE `error`
 * event): no status, so `code` and `type` decide.
 */
export const fromInBand = (payload: unknown, context: Context): ChatError.ChatError => {
  const f = fields(payload, "The stream reported an error")
  // OpenRouter's error objects carry an HTTP status as a numeric `code`, also in-band (on HTTP 200).
  const status = (payload as { readonly code?: unknown } | null)?.code
  if (typeof status === "number" && Number.isInteger(status) && status >= 400 && status < 600) {
    return fromStatus(status, f, undefined, context, f.message, Date.now())
  }
  const base = common(context, f.message)
  const coded = byCode(f, base)
  if (coded !== undefined) return coded
  const key = `${f.type ?? ""} ${f.code ?? ""}`
  if (/overload/.test(key)) return new ChatError.Overloaded(base)
  if (/rate_limit|requests|tokens/.test(key)) return new ChatError.RateLimited(base)
  if (/server_error|internal|api_error/.test(key)) return new ChatError.ServerError(base)
  if (/invalid_api_key|authentication/.test(key)) return new ChatError.AuthenticationFailed(base)
  if (/permission/.test(key)) return new ChatError.PermissionDenied(base)
  if (/not_found|model_not_found/.test(key)) return new ChatError.NotFound(base)
  if (/invalid_request/.test(key)) return new ChatError.InvalidRequest({ ...base, issues: issues(f) })
  return new ChatError.MalformedResponse({
    ...base,
    message: redact(`In-band error: ${f.message}`, context.secret)
  })
}

const causeChain = (error: unknown): string => {
  const parts: Array<string> = []
  let current: unknown = error
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code
    parts.push(
      typeof code === "string" && !current.message.includes(code)
        ? `${current.message} (${code})`
        : current.message
    )
    current = current.cause
  }
  return parts.map((part, i) => (i < parts.length - 1 ? part.replace(/\.$/, "") : part)).join(": ")
}

/**
 * Maps anything the SDK or the body read threw.
 *
 * `delivered` is the text streamed so far when the failure happened while
 * reading a streaming body (then a broken connection is `StreamTruncated`),
 * `undefined` otherwise.
 */
export const fromUnknown = (
  error: unknown,
  context: Context,
  delivered: string | undefined,
  now: number
): ChatError.ChatError => {
  if (ChatError.isChatError(error)) return error
  if (error instanceof APIConnectionTimeoutError) {
    return new ChatError.Timeout({
      ...common(context, `Request timed out after ${Duration.format(context.timeout)} (no response headers)`),
      phase: "first-token",
      timeout: context.timeout
    })
  }
  if (error instanceof APIUserAbortError) {
    return new ChatError.ConnectionFailed(common(context, "The request was aborted"))
  }
  if (error instanceof APIConnectionError) {
    return new ChatError.ConnectionFailed(common(context, causeChain(error)))
  }
  if (error instanceof APIError) {
    if (error.status === undefined) return fromInBand(error.error ?? { message: error.message }, context)
    return fromStatus(
      error.status,
      fields(error.error, error.message),
      error.headers,
      context,
      error.message,
      now
    )
  }
  if (error instanceof SyntaxError) return malformed(context, error.message)
  const message = causeChain(error) || String(error)
  if (delivered !== undefined) {
    return new ChatError.StreamTruncated({
      ...common(context, `The stream broke after ${delivered.length} characters: ${message}`),
      delivered
    })
  }
  return new ChatError.ConnectionFailed(common(context, message))
}

/** A `MalformedResponse`: what the server sent is not the protocol (`why` says how). */
export const malformed = (context: Context, why: string): ChatError.MalformedResponse =>
  new ChatError.MalformedResponse(common(context, `Malformed response: ${why}`))

/**
 * The server ended the answer with `finish_reason: "error"` and no error
 * object (OpenRouter, some vLLM versions): the generation failed on its side.
 * A `ServerError`, so retryable; never a finish.
 */
export const finishedWithError = (context: Context): ChatError.ServerError =>
  new ChatError.ServerError(
    common(context, 'The provider ended the answer with finish_reason "error" (the generation failed)')
  )

/** A `ConnectionFailed` with a message of our own. */
export const connectionFailed = (context: Context, message: string): ChatError.ConnectionFailed =>
  new ChatError.ConnectionFailed(common(context, message))

/** A `ContentFiltered` carrying the model's own refusal. */
export const refused = (context: Context, refusal: string): ChatError.ContentFiltered =>
  new ChatError.ContentFiltered({ ...common(context, `The model refused: ${refusal}`), refusal })
