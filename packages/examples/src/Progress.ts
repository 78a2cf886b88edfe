/**
 * Folds the events of a resilient stream into what a person watching it
 * wants to know: a status message when recovery happens, and a one-line
 * summary at the end. Pure; used by the CLI demo and the browser page.
 */

import type { ChatError, StreamEvent } from "@steadystream/core"
import * as Duration from "effect/Duration"

/** What a person watching one call has seen so far. */
export interface Progress {
  readonly startedAt: number
  /**
   * Requests made so far, the one under way included. A step the circuit
   * breaker refused made no request: the next step takes its number.
   */
  readonly attempts: number
  readonly fallbacks: ReadonlyArray<string>
  /** Characters of answer text delivered. */
  readonly chars: number
  readonly firstTokenAt: number | undefined
}

/** The progress of a call that starts at `now` (its first request under way). */
export const start = (now: number): Progress => ({
  startedAt: now,
  attempts: 1,
  fallbacks: [],
  chars: 0,
  firstTokenAt: undefined
})

/** Whether the attempt that failed with `error` was refused by the circuit breaker, so never made. */
const refused = (error: ChatError.ChatError): boolean => error._tag === "CircuitOpen"

/** The number of the request that follows a failure: the same number again when the breaker refused it. */
const nextAttempt = (progress: Progress, error: ChatError.ChatError): number =>
  refused(error) ? progress.attempts : progress.attempts + 1

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
      return { ...progress, attempts: nextAttempt(progress, event.error) }
    case "fallback":
      return {
        ...progress,
        attempts: nextAttempt(progress, event.error),
        fallbacks: [...progress.fallbacks, event.step]
      }
    case "restart":
      return { ...progress, chars: 0 }
    case "reasoning-delta":
    case "cooldown":
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

/**
 * For a `CircuitOpen`, what the breaker did and when it lets calls through
 * again ("no call was made; the breaker lets calls through again in 29.5 s");
 * undefined for any other error.
 *
 * **Gotchas**
 *
 * A half-open breaker (its one probe call still running) carries no
 * `retryAfter`: the hint then says to try again shortly.
 */
export const refusal = (error: ChatError.ChatError): string | undefined => {
  if (!refused(error)) return undefined
  return error.retryAfter === undefined
    ? "no call was made; the breaker is testing the model, try again shortly"
    : `no call was made; the breaker lets calls through again in ${seconds(error.retryAfter)}`
}

/** A failure in a sentence: the reason in words and its message, then what the breaker did if it refused. */
export const describe = (error: ChatError.ChatError, message = error.message): string => {
  const hint = refusal(error)
  return `${reason(error)}: ${message}${hint === undefined ? "" : ` (${hint})`}`
}

/** A failure in one line: {@link describe} with the first line of its message, and its tag. */
export const explain = (error: ChatError.ChatError): string =>
  `${describe(error, error.message.split("\n")[0])} (${error._tag})`

/**
 * The status message for a recovery event (given the progress *before* it),
 * or undefined for content events. `maxAttempts` is shown as "attempt n/max".
 */
export const status = (
  progress: Progress,
  event: StreamEvent.StreamEvent,
  maxAttempts: number
): string | undefined => {
  if (event.type === "restart") {
    return `${reason(event.error)} after ${progress.chars} chars: the partial answer is withdrawn, starting again`
  }
  if (event.type === "cooldown") {
    return `${event.model} is rate limited (a 429 here or on another instance), waiting ${seconds(event.delay)}`
  }
  if (event.type !== "retrying" && event.type !== "fallback") return undefined
  const next = `attempt ${nextAttempt(progress, event.error)}/${maxAttempts}`
  const hint = refusal(event.error)
  const what = hint === undefined ? reason(event.error) : `${reason(event.error)} (${hint})`
  if (event.type === "fallback") return `${what}, falling back to ${event.step} (${next})`
  return progress.chars > 0
    ? `${what} after ${progress.chars} chars, continuing in ${seconds(event.delay)} (${next})`
    : `${what}, retrying in ${seconds(event.delay)} (${next})`
}

/** A call cut short without a `ChatError`, `why` in a few words ("server shutting down"). */
export interface Stopped {
  readonly _tag: "Stopped"
  readonly why: string
}

/**
 * The closing line: attempts made, fallbacks, time to first token, characters
 * and outcome. A final `CircuitOpen` is not counted as an attempt: no call
 * was made.
 */
export const summary = (progress: Progress, now: number, failure?: ChatError.ChatError | Stopped): string => {
  const attempts =
    failure !== undefined && failure._tag !== "Stopped" && refused(failure)
      ? progress.attempts - 1
      : progress.attempts
  const parts = [
    `${attempts} ${attempts === 1 ? "attempt" : "attempts"}`,
    `${progress.fallbacks.length} ${progress.fallbacks.length === 1 ? "fallback" : "fallbacks"}`,
    `first token ${progress.firstTokenAt === undefined ? "-" : `${progress.firstTokenAt - progress.startedAt} ms`}`,
    `${progress.chars} chars`,
    failure === undefined
      ? `ok in ${seconds(Duration.millis(now - progress.startedAt))}`
      : failure._tag === "Stopped"
        ? `stopped after ${seconds(Duration.millis(now - progress.startedAt))}: ${failure.why}`
        : `failed: ${failure._tag} (${reason(failure)}${refused(failure) ? ", no call made" : ""})`
  ]
  return parts.join(" · ")
}
