/**
 * One call's retry decisions: after a failed attempt, retry the same step
 * after a delay, or move on. One schedule (so one budget) for the whole call;
 * a delay that would end past the `total` deadline is not waited for; a
 * target that failed with a non-retryable error is not called again by a
 * later step.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Schedule from "effect/Schedule"
import type { ChatError } from "../ChatError.ts"
import * as RetrySchedule from "../RetrySchedule.ts"
import { sameTarget, type Target } from "./Chain.ts"

export type Decision =
  | { readonly _tag: "Retry"; readonly attempt: number; readonly delay: Duration.Duration }
  | {
      readonly _tag: "Next"
    }

export interface Recovery {
  /** What to do after `error` from `target` (undefined for a whole answer, which is never retried). */
  readonly decide: (error: ChatError, target: Target | undefined) => Effect.Effect<Decision>
  /** Whether a non-retryable error already ruled this target out. */
  readonly skips: (target: Target) => boolean
  /** Whether a wait of `delay` ends before the `total` deadline. */
  readonly fits: (delay: Duration.Duration) => Effect.Effect<boolean>
}

const next: Decision = { _tag: "Next" }

export const make = Effect.fnUntraced(function* (options: {
  readonly schedule: Schedule.Schedule<unknown, ChatError>
  readonly maxRetryAfter: Duration.Duration
  /** Milliseconds left before the `total` deadline. */
  readonly remaining: Effect.Effect<number>
}) {
  const decide = yield* RetrySchedule.decider(options.schedule, options.maxRetryAfter)
  const dead: Array<Target> = []
  let retries = 0
  const fits = (delay: Duration.Duration) =>
    Effect.map(options.remaining, (left) => left > Duration.toMillis(delay))
  return {
    skips: (target) => dead.some((other) => sameTarget(other, target)),
    fits,
    decide: (error, target) =>
      target === undefined
        ? Effect.succeed(next)
        : Effect.gen(function* () {
            const decision = yield* decide(error)
            if (decision._tag === "GiveUp") {
              if (decision.reason === "non-retryable" && error._tag !== "CircuitOpen") dead.push(target)
              return next
            }
            if (!(yield* fits(decision.delay))) return next
            retries++
            yield* Effect.logWarning("SteadyStream: retrying").pipe(
              Effect.annotateLogs({
                provider: target.service.provider,
                model: target.model,
                attempt: retries,
                delayMillis: Duration.toMillis(decision.delay),
                error: error._tag,
                reason: error.message
              })
            )
            return { _tag: "Retry", attempt: retries, delay: decision.delay } as const
          })
  } satisfies Recovery
})
