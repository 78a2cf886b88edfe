/**
 * Folds the events of a resilient stream into what a person watching it
 * wants to know: a status message when recovery happens, and a one-line
 * summary at the end. Pure; used by the CLI demo and the browser page.
 */

import type { ChatError, StreamEvent } from "@steadystream/core"
import * as Duration from "effect/Duration"

export interface Progress {
  readonly startedAt: number
  /** Requests made so far (the first one included). */
  readonly attempts: number
  readonly fallbacks: ReadonlyArray<string>
  /** Characters of answer text delivered. */
  readonly chars: number
  readonly firstTokenAt: number | undefined
}

export const start = (now: number): Progress => ({
  startedAt: now,
  attempts: 1,
  fallbacks: [],
  chars: 0,
  firstTokenAt: undefined
})

/** The progress after one more event. */
export const update = (progress: Progress, event: StreamEvent.StreamEvent, now: number): Progress => {
  switch (event.type) {
    case "text-delta":
      return {
        ...progress,
        chars: progress.chars + [...event.delta].length,
        firstTokenAt: progress.firstTokenAt ?? now
      }
    case "tool-call-delta":
      return { ...progress, firstTokenAt: progress.firstTokenAt ?? now }
    case "retrying":
      return { ...progress, attempts: progress.attempts + 1 }
    case "fallback":
      return { ...progress, attempts: progress.attempts + 1, fallbacks: [...progress.fallbacks, event.step] }
    case "restart":
      return { ...progress, chars: 0 }
    case "reasoning-delta":
    case "finish":
      return progress
  }
}

const seconds = (duration: Duration.Duration) => {
  const millis = Duration.toMillis(duration)
  return millis < 1000 ? `${Math.round(millis)} ms` : `${(millis / 1000).toFixed(1)} s`
}

/** What went wrong, in a few words. */
export const reason = (error: ChatError.ChatError): string => {
  switch (error._tag) {
    case "RateLimited":
      return "rate limited"
    case "Overloaded":
      return "server overloaded"
    case "ServerError":
      return error.status === undefined ? "server error" : `server error ${error.status}`
    case "ConnectionFailed":
      return "connection failed"
    case "StreamTruncated":
      return "connection lost"
    case "MalformedResponse":
      return "malformed response"
    case "Timeout":
      return error.phase === "first-token"
        ? `no first token after ${seconds(error.timeout)}`
        : error.phase === "idle"
          ? `stalled for ${seconds(error.timeout)}`
          : `out of time after ${seconds(error.timeout)}`
    case "ContinuationRejected":
      return `continuation rejected (${error.reason})`
    case "CircuitOpen":
      return "circuit open"
    case "QuotaExceeded":
      return "quota exceeded"
    case "AuthenticationFailed":
      return "authentication failed"
    case "PermissionDenied":
      return "permission denied"
    case "InvalidRequest":
      return "invalid request"
    case "NotFound":
      return "model not found"
    case "ContextLengthExceeded":
      return "context too long"
    case "ContentFiltered":
      return "content filtered"
  }
}

/** A failure in one line: the reason in words, the first line of its message, and its tag. */
export const explain = (error: ChatError.ChatError): string =>
  `${reason(error)}: ${error.message.split("\n")[0]} (${error._tag})`

/**
 * The status message for a recovery event (given the progress *before* it),
 * or undefined for content events. `maxAttempts` is shown as "attempt n/max".
 */
export const status = (
  progress: Progress,
  event: StreamEvent.StreamEvent,
  maxAttempts: number
): string | undefined => {
  const next = `attempt ${progress.attempts + 1}/${maxAttempts}`
  switch (event.type) {
    case "retrying":
      return progress.chars > 0
        ? `${reason(event.error)} after ${progress.chars} chars, continuing in ${seconds(event.delay)} (${next})`
        : `${reason(event.error)}, retrying in ${seconds(event.delay)} (${next})`
    case "fallback":
      return `${reason(event.error)}, falling back to ${event.step} (${next})`
    default:
      return undefined
  }
}

/** The closing line: attempts, fallbacks, time to first token, characters and outcome. */
export const summary = (progress: Progress, now: number, failure?: ChatError.ChatError): string => {
  const parts = [
    `${progress.attempts} ${progress.attempts === 1 ? "attempt" : "attempts"}`,
    `${progress.fallbacks.length} ${progress.fallbacks.length === 1 ? "fallback" : "fallbacks"}`,
    `first token ${progress.firstTokenAt === undefined ? "-" : `${progress.firstTokenAt - progress.startedAt} ms`}`,
    `${progress.chars} chars`,
    failure === undefined
      ? `ok in ${seconds(Duration.millis(now - progress.startedAt))}`
      : `failed: ${failure._tag} (${reason(failure)})`
  ]
  return parts.join(" · ")
}
