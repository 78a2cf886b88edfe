/**
 * One call's retry decisions: after a failed attempt, retry the same step
 * after a delay, or move on. One schedule (so one budget) for the whole call;
 * a delay that would end past the `total` deadline is not waited for; a
 * target that failed with a non-retryable error is not called again by a
 * later step.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
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

/** What `make` needs. */
export interface Options {
  readonly schedule: Schedule.Schedule<unknown, ChatError>
  readonly maxRetryAfter: Duration.Duration
  /** The call's `total` deadline, from now. */
  readonly total: Duration.Duration
}

// One object per call, its steps as methods; the schedule's decider is made at the first error (most calls
// never fail, and a decider is state held for as long as the call runs).
class CallRecovery implements Recovery {
  private readonly dead: Array<Target> = []
  private retries = 0
  private decider: ((error: ChatError) => Effect.Effect<RetrySchedule.Decision>) | undefined = undefined
  private readonly options: Options
  /** When the `total` deadline ends, in the clock's milliseconds. */
  private readonly end: number

  constructor(options: Options, now: number) {
    this.options = options
    this.end = now + Duration.toMillis(options.total)
  }

  fits(delay: Duration.Duration): Effect.Effect<boolean> {
    return Effect.map(Clock.currentTimeMillis, (now) => this.end - now > Duration.toMillis(delay))
  }

  skips(target: Target): boolean {
    return this.dead.some((other) => sameTarget(other, target))
  }

  decide(error: ChatError, target: Target | undefined): Effect.Effect<Decision> {
    if (target === undefined) return Effect.succeed(next)
    const self = this
    return Effect.gen(function* () {
      self.decider ??= yield* RetrySchedule.decider(self.options.schedule, self.options.maxRetryAfter)
      const decision = yield* self.decider(error)
      if (decision._tag === "GiveUp") {
        if (decision.reason === "non-retryable" && error._tag !== "CircuitOpen") self.dead.push(target)
        return next
      }
      if (!(yield* self.fits(decision.delay))) return next
      const attempt = ++self.retries
      yield* Effect.logWarning("SteadyStream: retrying").pipe(
        Effect.annotateLogs({
          provider: target.service.provider,
          model: target.model,
          attempt,
          delayMillis: Duration.toMillis(decision.delay),
          error: error._tag,
          reason: error.message
        })
      )
      return { _tag: "Retry", attempt, delay: decision.delay } as const
    })
  }
}

/** The recovery of a call that starts now. */
export const make = (options: Options): Effect.Effect<Recovery> =>
  Effect.map(Clock.currentTimeMillis, (now) => new CallRecovery(options, now))
