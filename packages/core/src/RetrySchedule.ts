/**
 * The retry policy as an Effect `Schedule` over `ChatError`s, and the honest
 * decision made from it for each failure: retry after a delay, or give up on
 * this fallback step.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Pull from "effect/Pull"
import * as Schedule from "effect/Schedule"
import type { ChatError } from "./ChatError.ts"
import type * as ResiliencePolicy from "./ResiliencePolicy.ts"

/**
 * The error's `retryAfter`, or zero.
 *
 * @since 0.1.0
 */
export const retryAfterOf = (error: ChatError): Duration.Duration => error.retryAfter ?? Duration.zero

/**
 * Exponential backoff from the policy: `baseDelay · factor^n`, jittered (when
 * on), capped at `maxDelay`, at most `maxRetries` recurrences, each delay
 * raised to the error's `retryAfter`.
 *
 * **Details**
 *
 * So every delay lies in `[retryAfter, max(maxDelay, retryAfter)]`. Jitter is
 * Effect's `Schedule.jittered` (factor in [0.8, 1.2]) and is applied before
 * the cap, so the cap always holds.
 *
 * **Gotchas**
 *
 * This schedule does not look at `isRetryable` or `maxRetryAfter`; wrap it
 * with {@link honest} (as `ResilientChat` does) for that.
 *
 * @since 0.1.0
 */
export const backoff = (options: {
  readonly maxRetries: number
  readonly baseDelay: Duration.Input
  readonly factor: number
  readonly maxDelay: Duration.Input
  readonly jitter: boolean
}): Schedule.Schedule<Duration.Duration, ChatError> => {
  const maxDelay = Duration.fromInputUnsafe(options.maxDelay)
  const base = Schedule.exponential(options.baseDelay, options.factor).pipe(
    Schedule.setInputType<ChatError>()
  )
  return (options.jitter ? Schedule.jittered(base) : base).pipe(
    Schedule.modifyDelay(({ duration }) => Effect.succeed(Duration.min(duration, maxDelay))),
    Schedule.upTo({ times: options.maxRetries })
  )
}

/**
 * Why an error is never retried, or `undefined` when it may be: the one rule
 * behind {@link honest} and {@link decider}.
 *
 * @since 0.2.0
 */
export const giveUpReason = (
  error: ChatError,
  maxRetryAfter: Duration.Duration
): "non-retryable" | "retry-after-too-long" | undefined =>
  !error.isRetryable
    ? "non-retryable"
    : Duration.isGreaterThan(retryAfterOf(error), maxRetryAfter)
      ? "retry-after-too-long"
      : undefined

/**
 * Makes any schedule honest about `ChatError`s.
 *
 * **Details**
 *
 * - A non-retryable error stops the schedule (never retried).
 * - A `retryAfter` above `maxRetryAfter` stops the schedule (no waiting: the
 *   caller moves to the next fallback step).
 * - Otherwise the delay is raised to at least the error's `retryAfter`.
 *
 * @since 0.1.0
 */
export const honest = <Out>(
  schedule: Schedule.Schedule<Out, ChatError>,
  maxRetryAfter: Duration.Input
): Schedule.Schedule<Out, ChatError> => {
  const limit = Duration.fromInputUnsafe(maxRetryAfter)
  return schedule.pipe(
    Schedule.while(({ input }) => giveUpReason(input, limit) === undefined),
    Schedule.modifyDelay(({ duration, input }) =>
      Effect.succeed(Duration.max(Duration.fromInputUnsafe(duration), retryAfterOf(input)))
    )
  )
}

/**
 * The schedule a resolved policy stands for, made {@link honest}.
 *
 * @since 0.1.0
 */
export const fromPolicy = (
  retry: ResiliencePolicy.Resolved["retry"]
): Schedule.Schedule<unknown, ChatError> =>
  honest(retry._tag === "Custom" ? retry.schedule : backoff(retry), retry.maxRetryAfter)

/**
 * What to do about one failure.
 *
 * @since 0.1.0
 */
export type Decision =
  | { readonly _tag: "Retry"; readonly delay: Duration.Duration }
  | {
      readonly _tag: "GiveUp"
      readonly reason: "non-retryable" | "retry-after-too-long" | "exhausted"
    }

/**
 * A stateful decider over one schedule: each call feeds one error and steps
 * the schedule once, so a decider is the retry budget of one call.
 *
 * **Details**
 *
 * The decider does not sleep; the caller announces the delay (a `retrying`
 * event) and then sleeps. The reason for giving up is computed from the error
 * first, so a non-retryable error or a too-long `retryAfter` never consumes a
 * recurrence.
 *
 * **Example**
 *
 * ```ts
 * const decide = yield* RetrySchedule.decider(RetrySchedule.fromPolicy(ResiliencePolicy.resolve().retry), "60 seconds")
 * const decision = yield* decide(error) // { _tag: "Retry", delay } | { _tag: "GiveUp", reason }
 * ```
 *
 * @since 0.1.0
 */
export const decider = Effect.fnUntraced(function* (
  schedule: Schedule.Schedule<unknown, ChatError>,
  maxRetryAfter: Duration.Input
) {
  const step = yield* Schedule.toStep(schedule)
  const limit = Duration.fromInputUnsafe(maxRetryAfter)
  let exhausted = false
  return (error: ChatError): Effect.Effect<Decision> =>
    Effect.gen(function* () {
      const refused = giveUpReason(error, limit)
      if (refused !== undefined) return { _tag: "GiveUp", reason: refused } as const
      if (exhausted) return { _tag: "GiveUp", reason: "exhausted" } as const
      const now = yield* Clock.currentTimeMillis
      const delay = yield* step(now, error).pipe(
        Effect.map(([, delay]): Duration.Duration | undefined => delay),
        Pull.catchDone(() => Effect.succeed(undefined)),
        Effect.catchCause((cause) => Effect.die(Cause.squash(cause)))
      )
      if (delay === undefined) {
        exhausted = true
        return { _tag: "GiveUp", reason: "exhausted" } as const
      }
      return { _tag: "Retry", delay } as const
    })
})
