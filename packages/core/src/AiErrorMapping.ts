/**
 * The one place where `ChatError`s and `effect/ai` `AiError`s become each
 * other: `toAiError` for `ResilientLanguageModel`, `fromAiError` for
 * `ChatModel.fromLanguageModel`. Both keep whether the failure is worth
 * another try, and the server's requested wait where the target can hold it.
 *
 * @since 0.2.0
 */

import * as AiError from "effect/ai/AiError"
import * as Duration from "effect/Duration"
import * as ChatError from "./ChatError.ts"

/**
 * What `toAiError` records under `metadata.steadystream` of a reason that has
 * metadata: the `ChatError`'s tag and the fields `effect/ai` has no place for.
 *
 * @since 0.2.0
 */
export type Metadata = {
  readonly tag: ChatError.Tag
  readonly provider: string
  readonly model: string
  readonly status?: number
  readonly requestId?: string
  readonly retryAfterMillis?: number
}

const metadataOf = (error: ChatError.ChatError): { readonly steadystream: Metadata } => ({
  steadystream: {
    tag: error._tag,
    provider: error.provider,
    model: error.model,
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
    ...(error.retryAfter === undefined ? {} : { retryAfterMillis: Duration.toMillis(error.retryAfter) })
  }
})

/**
 * The `AiError` reason for a `ChatError`.
 *
 * **Details**
 *
 * | ChatError | reason |
 * | --- | --- |
 * | any retryable error with a `retryAfter` | `RateLimitError` (the only reason that carries one) |
 * | `RateLimited` | `RateLimitError` |
 * | `QuotaExceeded` | `QuotaExhaustedError` |
 * | `ServerError`, `Overloaded`, `StreamTruncated`, `Timeout` (first-token, idle) | `InternalProviderError` |
 * | `ConnectionFailed` | `NetworkError` (`TransportError`, the `ChatError` as `cause`) |
 * | `MalformedResponse`, `ContinuationRejected` | `InvalidOutputError` |
 * | `AuthenticationFailed` / `PermissionDenied` | `AuthenticationError` (`InvalidKey` / `InsufficientPermissions`) |
 * | `InvalidRequest`, `NotFound`, `ContextLengthExceeded` | `InvalidRequestError` |
 * | `ContentFiltered` | `ContentPolicyError` (the refusal, when the model refused) |
 * | `CircuitOpen`, `Timeout` (total) | `UnknownError` |
 *
 * Every reason's `isRetryable` equals the `ChatError`'s. Reasons with
 * metadata carry {@link Metadata} under `steadystream`.
 *
 * **Gotchas**
 *
 * - A non-retryable error keeps its `retryAfter` only in the metadata
 *   (`CircuitOpen`'s time until the breaker half-opens): no non-retryable
 *   reason has the field.
 * - `NetworkError` wants a method and URL, which a `ChatError` does not know:
 *   they read `POST` and the provider's name.
 *
 * @since 0.2.0
 */
export const toReason = (error: ChatError.ChatError): AiError.AiErrorReason => {
  const description = error.message
  const metadata = metadataOf(error)
  if (error.isRetryable && error.retryAfter !== undefined) {
    return new AiError.RateLimitError({ retryAfter: error.retryAfter, metadata })
  }
  switch (error._tag) {
    case "RateLimited":
      return new AiError.RateLimitError({ metadata })
    case "QuotaExceeded":
      return new AiError.QuotaExhaustedError({ metadata })
    case "ServerError":
    case "Overloaded":
    case "StreamTruncated":
      return new AiError.InternalProviderError({ description, metadata })
    case "Timeout":
      return error.isRetryable
        ? new AiError.InternalProviderError({ description, metadata })
        : new AiError.UnknownError({ description, metadata })
    case "ConnectionFailed":
      return new AiError.NetworkError({
        reason: "TransportError",
        method: "POST",
        url: error.provider,
        description,
        cause: error
      })
    case "MalformedResponse":
    case "ContinuationRejected":
      return new AiError.InvalidOutputError({ description, metadata })
    case "AuthenticationFailed":
      return new AiError.AuthenticationError({ kind: "InvalidKey", description, metadata })
    case "PermissionDenied":
      return new AiError.AuthenticationError({ kind: "InsufficientPermissions", description, metadata })
    case "InvalidRequest":
    case "NotFound":
      return new AiError.InvalidRequestError({ description, metadata })
    case "ContextLengthExceeded":
      return new AiError.InvalidRequestError({ parameter: "messages", description, metadata })
    case "ContentFiltered":
      return new AiError.ContentPolicyError({ description: error.refusal ?? description, metadata })
    case "CircuitOpen":
      return new AiError.UnknownError({ description, metadata })
  }
}

/**
 * A `ChatError` as an `AiError` raised by `module.method`; see
 * {@link toReason} for the table.
 *
 * @since 0.2.0
 */
export const toAiError = (error: ChatError.ChatError, module: string, method: string): AiError.AiError =>
  AiError.make({ module, method, reason: toReason(error) })

/**
 * Who the `ChatError`s made by {@link fromAiError} name as provider and model.
 *
 * @since 0.2.0
 */
export interface Source {
  readonly provider: string
  readonly model: string
}

const statusOf = (reason: AiError.AiErrorReason): number | undefined =>
  "http" in reason ? reason.http?.response?.status : undefined

/**
 * The `ChatError` for an `AiError` (any reason), so `ResilientChat` can judge
 * a `LanguageModel`'s failures like any adapter's.
 *
 * **Details**
 *
 * | reason | ChatError |
 * | --- | --- |
 * | `RateLimitError` | `RateLimited`, with its `retryAfter` |
 * | `QuotaExhaustedError` | `QuotaExceeded` |
 * | `AuthenticationError` | `PermissionDenied` for `InsufficientPermissions`, else `AuthenticationFailed` |
 * | `ContentPolicyError` | `ContentFiltered` |
 * | `InternalProviderError` | `Overloaded` for HTTP 503 / 529, else `ServerError` |
 * | `NetworkError` | `ConnectionFailed` for `TransportError`, else `InvalidRequest` |
 * | `InvalidResponseError`, `InvalidOutputError`, `StructuredOutputError`, `ToolNotFoundError`, `ToolParameterValidationError` | `MalformedResponse` |
 * | `UnknownError` | `NotFound` for HTTP 404, else `InvalidRequest` |
 * | `InvalidRequestError` and every other reason (tool configuration, schema, input) | `InvalidRequest` |
 *
 * The message is the `AiError`'s; the HTTP status is kept when the reason
 * has one.
 *
 * **Gotchas**
 *
 * `InvalidResponseError` is not retryable in `effect/ai` but becomes the
 * retryable `MalformedResponse`: SteadyStream retries an unreadable answer
 * (within its one bounded budget) whatever sent it.
 *
 * @since 0.2.0
 */
export const fromAiError = (error: AiError.AiError, source: Source): ChatError.ChatError => {
  const reason = error.reason
  const status = statusOf(reason)
  const base = { ...source, message: error.message, ...(status === undefined ? {} : { status }) }
  const invalid = (path: ReadonlyArray<string> = []) =>
    new ChatError.InvalidRequest({ ...base, issues: [{ path, message: error.message }] })
  switch (reason._tag) {
    case "RateLimitError":
      return new ChatError.RateLimited(
        reason.retryAfter === undefined ? base : { ...base, retryAfter: reason.retryAfter }
      )
    case "QuotaExhaustedError":
      return new ChatError.QuotaExceeded(base)
    case "AuthenticationError":
      return reason.kind === "InsufficientPermissions"
        ? new ChatError.PermissionDenied(base)
        : new ChatError.AuthenticationFailed(base)
    case "ContentPolicyError":
      return new ChatError.ContentFiltered(base)
    case "InternalProviderError":
      return status === 503 || status === 529
        ? new ChatError.Overloaded(base)
        : new ChatError.ServerError(base)
    case "NetworkError":
      return reason.reason === "TransportError" ? new ChatError.ConnectionFailed(base) : invalid()
    case "InvalidResponseError":
    case "InvalidOutputError":
    case "StructuredOutputError":
    case "ToolNotFoundError":
    case "ToolParameterValidationError":
      return new ChatError.MalformedResponse(base)
    case "UnknownError":
      return status === 404 ? new ChatError.NotFound(base) : invalid()
    case "InvalidRequestError":
      return invalid(reason.parameter === undefined ? [] : [reason.parameter])
    case "UnsupportedSchemaError":
    case "InvalidToolResultError":
    case "ToolResultEncodingError":
    case "ToolConfigurationError":
    case "ToolkitRequiredError":
    case "InvalidUserInputError":
      return invalid()
  }
}
