/**
 * The typed failures of a chat call: a tagged union of `Schema.TaggedError`
 * classes. Every member carries the provider, the model, the request id and
 * HTTP status when known, and a human message; every member answers
 * `isRetryable` and `retryAfter`.
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

// Fields every member carries. `retryAfter` is the server's Retry-After when it sent one (encoded as
// milliseconds); it only changes what happens for retryable errors and `CircuitOpen`.
const common = {
  provider: Schema.String,
  model: Schema.String,
  requestId: Schema.optionalKey(Schema.String),
  status: Schema.optionalKey(Schema.Number),
  message: Schema.String,
  retryAfter: Schema.optionalKey(Schema.DurationFromMillis)
}

/**
 * The server asked us to slow down (HTTP 429). Retryable; honours the
 * server's `Retry-After`.
 *
 * @since 0.1.0
 */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", common) {
  get isRetryable(): boolean {
    return true
  }
}

/**
 * The account is out of credit (`insufficient_quota`). A 429 that no retry can
 * fix: never retried.
 *
 * @since 0.1.0
 */
export class QuotaExceeded extends Schema.TaggedError<QuotaExceeded>()("QuotaExceeded", common) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * The provider failed with a 5xx status. Retryable.
 *
 * @since 0.1.0
 */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", common) {
  get isRetryable(): boolean {
    return true
  }
}

/**
 * The provider is overloaded (HTTP 503 / 529, or an in-band `overloaded`
 * error). Retryable; honours `Retry-After`.
 *
 * @since 0.1.0
 */
export class Overloaded extends Schema.TaggedError<Overloaded>()("Overloaded", common) {
  get isRetryable(): boolean {
    return true
  }
}

/**
 * The connection could not be made, or broke before a streamed response
 * began (or anywhere in a non-streaming one, which has nothing to deliver
 * until it completes). Retryable.
 *
 * @since 0.1.0
 */
export class ConnectionFailed extends Schema.TaggedError<ConnectionFailed>()("ConnectionFailed", common) {
  get isRetryable(): boolean {
    return true
  }
}

/**
 * Which deadline expired: before the first content event, between two content
 * events, or the whole call's budget.
 *
 * @since 0.1.0
 */
export const TimeoutPhase = Schema.Literals(["first-token", "idle", "total"])

/**
 * @since 0.1.0
 */
export type TimeoutPhase = typeof TimeoutPhase.Type

/**
 * A deadline expired. `first-token` and `idle` are retryable; `total` is the
 * end of the budget and is not.
 *
 * @since 0.1.0
 */
export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", {
  ...common,
  phase: TimeoutPhase,
  timeout: Schema.DurationFromMillis
}) {
  get isRetryable(): boolean {
    return this.phase !== "total"
  }
}

/**
 * The stream ended before the model finished: the connection broke mid-body,
 * the server closed without a finish reason or `[DONE]`, or recovery was
 * disabled. `delivered` holds the text the consumer has already received, so
 * the caller can decide what to do with it. Retryable.
 *
 * @since 0.1.0
 */
export class StreamTruncated extends Schema.TaggedError<StreamTruncated>()("StreamTruncated", {
  ...common,
  delivered: Schema.String
}) {
  get isRetryable(): boolean {
    return true
  }
}

/**
 * The provider sent something that cannot be read: malformed JSON, an
 * unexpected shape, an in-band error frame without a known code. Retryable.
 *
 * @since 0.1.0
 */
export class MalformedResponse extends Schema.TaggedError<MalformedResponse>()("MalformedResponse", common) {
  get isRetryable(): boolean {
    return true
  }
}

/**
 * The API key was missing, malformed or rejected (HTTP 401). Never retried.
 *
 * @since 0.1.0
 */
export class AuthenticationFailed extends Schema.TaggedError<AuthenticationFailed>()(
  "AuthenticationFailed",
  common
) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * The key is valid but may not do this (HTTP 403). Never retried.
 *
 * @since 0.1.0
 */
export class PermissionDenied extends Schema.TaggedError<PermissionDenied>()("PermissionDenied", common) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * One problem found in a request: where (`path`) and what.
 *
 * @since 0.1.0
 */
export const RequestIssue = Schema.Struct({
  path: Schema.Array(Schema.Union([Schema.String, Schema.Number])),
  message: Schema.String
})

/**
 * @since 0.1.0
 */
export type RequestIssue = typeof RequestIssue.Type

/**
 * The request was rejected as invalid, locally (schema validation, with the
 * offending `issues`) or by the provider (HTTP 400 / 422). Never retried.
 *
 * @since 0.1.0
 */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  ...common,
  issues: Schema.Array(RequestIssue)
}) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * The model or endpoint does not exist (HTTP 404). Never retried.
 *
 * @since 0.1.0
 */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", common) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * The prompt does not fit the model's context window. Never retried (a
 * fallback to a model with a larger window may still succeed).
 *
 * @since 0.1.0
 */
export class ContextLengthExceeded extends Schema.TaggedError<ContextLengthExceeded>()(
  "ContextLengthExceeded",
  common
) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * The provider's content filter refused the request or the answer. Never
 * retried.
 *
 * @since 0.1.0
 */
export class ContentFiltered extends Schema.TaggedError<ContentFiltered>()("ContentFiltered", {
  ...common,
  /** The model's own words when it refused (`delta.refusal`, a Responses refusal), not a filter. */
  refusal: Schema.optionalKey(Schema.String)
}) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * Why a continuation was not accepted: it `restarted` the answer in other
 * words, `diverged` from the delivered text while replaying it, or could not be
 * verified against the delivered text at all (`unverifiable`).
 *
 * @since 0.2.0
 */
export const RejectionReason = Schema.Literals(["restarted", "diverged", "unverifiable"])

/**
 * @since 0.2.0
 */
export type RejectionReason = typeof RejectionReason.Type

/**
 * A continuation answer (after a mid-stream failure) did not verifiably
 * continue the text already delivered, so none of it was emitted. Retryable:
 * recovery goes on with the next attempt or fallback step. `delivered` holds
 * the text the consumer has received.
 *
 * @since 0.2.0
 */
export class ContinuationRejected extends Schema.TaggedError<ContinuationRejected>()("ContinuationRejected", {
  ...common,
  reason: RejectionReason,
  delivered: Schema.String
}) {
  get isRetryable(): boolean {
    return true
  }
}

/**
 * The model's circuit breaker is open after repeated failures: the call was
 * not made. Not retried against the same model; the fallback chain moves on.
 *
 * @since 0.1.0
 */
export class CircuitOpen extends Schema.TaggedError<CircuitOpen>()("CircuitOpen", common) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * Every failure a chat call can end with, as one schema (for logs and RPC).
 *
 * @since 0.1.0
 */
export const ChatError = Schema.Union([
  RateLimited,
  QuotaExceeded,
  ServerError,
  Overloaded,
  ConnectionFailed,
  Timeout,
  StreamTruncated,
  MalformedResponse,
  AuthenticationFailed,
  PermissionDenied,
  InvalidRequest,
  NotFound,
  ContextLengthExceeded,
  ContentFiltered,
  ContinuationRejected,
  CircuitOpen
])

/**
 * @since 0.1.0
 */
export type ChatError = typeof ChatError.Type

/**
 * Every tag of the union, for exhaustive tables and matching.
 *
 * @since 0.1.0
 */
export type Tag = ChatError["_tag"]

const tags: ReadonlySet<string> = new Set(ChatError.members.map((member) => member.identifier))

/**
 * Returns `true` for any member of the `ChatError` union.
 *
 * @since 0.1.0
 */
export const isChatError = (u: unknown): u is ChatError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag) && u instanceof Error

/**
 * Encodes an error to plain JSON-safe data with its schema (for logs, RPC and
 * the browser).
 *
 * @since 0.1.0
 */
export const encode: (error: ChatError) => typeof ChatError.Encoded = Schema.encodeSync(ChatError)

/**
 * Decodes plain data produced by {@link encode} back into an error instance.
 *
 * @since 0.1.0
 */
export const decode: (input: unknown) => ChatError = Schema.decodeUnknownSync(ChatError)
