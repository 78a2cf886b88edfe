/**
 * What a `ResilientChat` does when things go wrong: retries, deadlines,
 * mid-stream recovery, the fallback chain and the circuit breaker. Every
 * field is optional and every default is bounded.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import type * as Schedule from "effect/Schedule"
import type { ChatError } from "./ChatError.ts"
import * as FallbackStep from "./FallbackStep.ts"

/**
 * Exponential backoff with jitter.
 *
 * **Details**
 *
 * Defaults: `maxRetries` 3, `baseDelay` 500 ms, `factor` 2, `maxDelay` 10 s,
 * `jitter` on (each delay scaled by a random factor in [0.8, 1.2] before the
 * cap), `maxRetryAfter` 60 s.
 *
 * **Gotchas**
 *
 * - The delay is never below the error's `retryAfter`, even above `maxDelay`.
 * - A `retryAfter` above `maxRetryAfter` does not wait at all: the call moves
 *   to the next fallback step.
 * - `maxRetries` counts every retry of the call together: before the first
 *   token, mid-stream recoveries and retries of fallback steps.
 * - A 429's Retry-After also starts a cooldown of that model for every call
 *   sharing the layer (every instance, with `ResilientChat.layerRedis`): they
 *   wait it out before calling the model, or skip steps that call it when the
 *   wait is longer than `maxRetryAfter` or the time left. The call that met
 *   the 429 is not held up twice: its retry already waits the Retry-After.
 *
 * @since 0.1.0
 */
export interface RetryOptions {
  readonly maxRetries?: number
  readonly baseDelay?: Duration.Input
  readonly factor?: number
  readonly maxDelay?: Duration.Input
  readonly jitter?: boolean
  readonly maxRetryAfter?: Duration.Input
}

/**
 * Your own retry schedule, fed each `ChatError`; its delay is the wait.
 *
 * **Gotchas**
 *
 * It is still made honest: non-retryable errors are never retried, the delay
 * is raised to the error's `retryAfter`, and a `retryAfter` above
 * `maxRetryAfter` (default 60 s) skips to the next fallback. Bound it yourself
 * (`Schedule.recurs`, `Schedule.upTo`); only the `total` deadline stops an
 * unbounded one.
 *
 * @since 0.1.0
 */
export interface CustomRetry {
  readonly schedule: Schedule.Schedule<unknown, ChatError>
  readonly maxRetryAfter?: Duration.Input
}

/**
 * Deadlines. Defaults: `firstToken` 30 s, `idle` 30 s, `total` 120 s.
 *
 * **Details**
 *
 * - `firstToken`: from the start of a streaming attempt to its first event.
 * - `idle`: between two events of a streaming attempt.
 * - `total`: the whole call — every attempt, wait and fallback together.
 *
 * **Gotchas**
 *
 * - `firstToken` and `idle` time the model, not the consumer: a consumer that
 *   pulls slowly never causes an idle timeout. It does count against `total`
 *   (the producer waits for it, at most 16 events ahead).
 * - Any model event resets the idle clock, `finish` included; adapters never
 *   emit keep-alives, so a stream of only keep-alive comments times out.
 * - First-token and idle expiries are retryable `Timeout`s (recovered by a
 *   retry or continuation); `total` is the end of the budget and is final.
 *
 * @since 0.1.0
 */
export interface TimeoutOptions {
  readonly firstToken?: Duration.Input
  readonly idle?: Duration.Input
  readonly total?: Duration.Input
}

/**
 * Per-model circuit breaker: when the model keeps failing, it is skipped
 * (`CircuitOpen`, straight to the next fallback step) for `openFor`, then
 * probed with one call.
 *
 * **Details**
 *
 * Two ways to say "keeps failing":
 * - `{ failures }`: that many consecutive failed attempts;
 * - `{ failureRate, window, minimumCalls }`: at least that fraction of the
 *   last `window` attempts failed, once `minimumCalls` are recorded.
 *
 * Default: `{ failureRate: 0.5, window: 20, minimumCalls: 10, openFor: 30 s }`.
 *
 * **Gotchas**
 *
 * - Under concurrency a consecutive count trips on ordinary transient faults:
 *   a failed attempt is recorded at once, a successful stream only when it
 *   ends, so failures line up. At 20% faults and 50 concurrent streams,
 *   `{ failures: 5 }` opened the circuit and failed 88% of calls (see
 *   `pnpm bench`); the rate-based default does not trip there and still
 *   opens after 10 calls of an outage.
 * - It judges whether answers start: an attempt counts as a success once its
 *   first chunk arrives, and failures after that (a reset mid-answer, an idle
 *   timeout) do not count against the model. Neither does a first-token
 *   timeout: errors the model answers with (429, 5xx, refused connections,
 *   a stream that ends before its first chunk) do.
 * - Errors about the request (invalid request, context length, content
 *   filter, not found) say nothing about the model's health: not counted.
 * - Neither does a 429 with a Retry-After: the model's cooldown keeps every
 *   call away for that long instead (a burst of 429s used to open the
 *   circuit for `openFor`, failing calls that only had to wait a second).
 * - While open, every step that calls the same model (the default
 *   non-streaming fallback too) is skipped: add a step with another model,
 *   `cached` or `staticAnswer` to answer during an outage.
 *
 * @since 0.1.0
 */
export type CircuitBreakerOptions =
  | { readonly failures: number; readonly openFor?: Duration.Input }
  | {
      readonly failureRate: number
      readonly window?: number
      readonly minimumCalls?: number
      readonly openFor?: Duration.Input
    }

/**
 * How a continuation request is built and read.
 *
 * **Details**
 *
 * `instruction` is the system message placed before the delivered text (which
 * goes last, as an assistant message). `minOverlap` (default 4 UTF-16 code
 * units) is the shortest repeated tail that is trimmed from a continuation.
 *
 * **Gotchas**
 *
 * A continuation that genuinely starts with the last `minOverlap`+ characters
 * of the delivered text cannot be told from a repeat and is trimmed; a repeat
 * shorter than `minOverlap` is kept. A smaller `minOverlap` trims more
 * repeats and misreads more genuine text (with 1, "real" + "ly" becomes
 * "realy").
 *
 * @since 0.1.0
 */
export interface ContinuationOptions {
  readonly instruction?: string
  readonly minOverlap?: number
}

/**
 * The whole policy.
 *
 * @since 0.1.0
 */
export interface ResiliencePolicy {
  readonly retry?: RetryOptions | CustomRetry
  readonly timeouts?: TimeoutOptions
  /**
   * After content was delivered: recover with a verified continuation
   * (`"continue"`, the default), withdraw the partial answer with a `restart`
   * event and stream a fresh one (`"restart"`, for consumers that can take
   * text back, such as a chat UI), or fail with `StreamTruncated` (`"fail"`).
   */
  readonly midStream?: "continue" | "restart" | "fail"
  /** Tried in order once retries are spent or skipped. Default `[FallbackStep.nonStreaming]`. */
  readonly fallback?: ReadonlyArray<FallbackStep.FallbackStep>
  /** Default `{ failureRate: 0.5, window: 20, minimumCalls: 10, openFor: "30 seconds" }`; `false` turns it off. */
  readonly circuitBreaker?: CircuitBreakerOptions | false
  readonly continuation?: ContinuationOptions
}

/**
 * The instruction sent with a continuation request by default.
 *
 * @since 0.1.0
 */
export const defaultInstruction =
  "Your previous reply was cut off. The assistant message that follows is exactly what was delivered. " +
  "Continue exactly where it stopped: do not repeat any of it, do not add a preamble."

/**
 * A policy with every default filled in and every duration decoded.
 *
 * @since 0.1.0
 */
export interface Resolved {
  readonly retry:
    | {
        readonly _tag: "Backoff"
        readonly maxRetries: number
        readonly baseDelay: Duration.Duration
        readonly factor: number
        readonly maxDelay: Duration.Duration
        readonly jitter: boolean
        readonly maxRetryAfter: Duration.Duration
      }
    | {
        readonly _tag: "Custom"
        readonly schedule: Schedule.Schedule<unknown, ChatError>
        readonly maxRetryAfter: Duration.Duration
      }
  readonly timeouts: {
    readonly firstToken: Duration.Duration
    readonly idle: Duration.Duration
    readonly total: Duration.Duration
  }
  readonly midStream: "continue" | "restart" | "fail"
  readonly fallback: ReadonlyArray<FallbackStep.FallbackStep>
  readonly circuitBreaker:
    | { readonly _tag: "Consecutive"; readonly failures: number; readonly openFor: Duration.Duration }
    | {
        readonly _tag: "Rate"
        readonly failureRate: number
        readonly window: number
        readonly minimumCalls: number
        readonly openFor: Duration.Duration
      }
    | false
  readonly continuation: { readonly instruction: string; readonly minOverlap: number }
}

const duration = (input: Duration.Input | undefined, fallback: Duration.Input): Duration.Duration =>
  Duration.fromInputUnsafe(input ?? fallback)

const count = (n: number | undefined, fallback: number, min: number): number =>
  n === undefined || !Number.isFinite(n) ? fallback : Math.max(min, Math.floor(n))

const breaker = (options: CircuitBreakerOptions | false | undefined): Resolved["circuitBreaker"] => {
  if (options === false) return false
  const openFor = duration(options?.openFor, "30 seconds")
  if (options !== undefined && "failures" in options) {
    return { _tag: "Consecutive", failures: count(options.failures, 5, 1), openFor }
  }
  const window = count(options?.window, 20, 1)
  return {
    _tag: "Rate",
    failureRate: Math.min(1, Math.max(0, options?.failureRate ?? 0.5)),
    window,
    minimumCalls: Math.min(window, count(options?.minimumCalls, 10, 1)),
    openFor
  }
}

/**
 * Fills in the defaults.
 *
 * **Gotchas**
 *
 * Numbers are clamped, not rejected: a negative `maxRetries` means 0, a
 * `factor` below 1 means 1, `minOverlap` below 1 means 1. A malformed
 * duration string throws (it is a programming error, found at layer build).
 *
 * @since 0.1.0
 */
export const resolve = (policy: ResiliencePolicy = {}): Resolved => {
  const retry = policy.retry ?? {}
  const maxRetryAfter = duration(retry.maxRetryAfter, "60 seconds")
  return {
    retry:
      "schedule" in retry
        ? { _tag: "Custom", schedule: retry.schedule, maxRetryAfter }
        : {
            _tag: "Backoff",
            maxRetries: count(retry.maxRetries, 3, 0),
            baseDelay: duration(retry.baseDelay, "500 millis"),
            factor: Math.max(1, retry.factor ?? 2),
            maxDelay: duration(retry.maxDelay, "10 seconds"),
            jitter: retry.jitter ?? true,
            maxRetryAfter
          },
    timeouts: {
      firstToken: duration(policy.timeouts?.firstToken, "30 seconds"),
      idle: duration(policy.timeouts?.idle, "30 seconds"),
      total: duration(policy.timeouts?.total, "120 seconds")
    },
    midStream: policy.midStream ?? "continue",
    fallback: policy.fallback ?? [FallbackStep.nonStreaming],
    circuitBreaker: breaker(policy.circuitBreaker),
    continuation: {
      instruction: policy.continuation?.instruction ?? defaultInstruction,
      minOverlap: count(policy.continuation?.minOverlap, 4, 1)
    }
  }
}
