/**
 * The per-model rate-limit cooldown, over effect's adaptive `RateLimiter`:
 * before a model attempt, wait out the model's cooldown; after a 429 with a
 * Retry-After, feed it back, so every caller sharing the store (the calls of
 * one layer in memory, every instance on one Redis) waits it out and none
 * sends the model a request inside the window.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as RateLimiter from "effect/persistence/RateLimiter"
import type * as Scope from "effect/Scope"
import { type ChatError, RateLimited } from "../ChatError.ts"
import * as ChatTelemetry from "../ChatTelemetry.ts"

/** Whose cooldown: the circuit key (provider or step name, and model). */
export interface Source {
  readonly key: string
  readonly provider: string
  readonly model: string
}

/** What one call allows: how long it may still wait, and how a wait is shown. */
export interface Bounds {
  /** Whether a wait of `delay` ends before the call's `total` deadline. */
  readonly fits: (delay: Duration.Duration) => Effect.Effect<boolean>
  /** Tells the consumer the call waits `delay` (a `cooldown` event). */
  readonly announce: (delay: Duration.Duration) => Effect.Effect<void>
}

/** The cooldown around one model attempt: waited out before it, fed back after it failed. */
export interface Cooldown {
  /**
   * Waits out the cooldown of `source`; fails with `RateLimited` (the attempt
   * is not made) when the wait would not fit. Succeeds with the epoch that
   * `feedback` takes.
   */
  readonly wait: (source: Source, bounds: Bounds) => Effect.Effect<number, ChatError>
  /** After the attempt failed with `error`: a 429's Retry-After starts a cooldown for every caller. */
  readonly feedback: (source: Source, epoch: number, error: ChatError) => Effect.Effect<void>
}

// The learning phase after a cooldown lasts this long (plus effect's minute of grace) unless a 429 ends it.
const learningWindow = Duration.minutes(1)

const open: RateLimiter.AdaptiveConsumeResult = { delay: Duration.zero, epoch: 0, phase: "inactive" }

const count = (source: Source, outcome: "waited" | "skipped") =>
  Metric.update(Metric.withAttributes(ChatTelemetry.cooldowns, { model: source.key, outcome }), 1)

/**
 * The cooldown over the `RateLimiterStore` in the context (an in-memory one of
 * its own when there is none). Waits longer than `maxWait` are not made.
 */
export const make = Effect.fnUntraced(function* (
  maxWait: Duration.Duration
): Effect.fn.Return<Cooldown, never, Scope.Scope> {
  const given = yield* Effect.serviceOption(RateLimiter.RateLimiterStore)
  const store = Option.isSome(given)
    ? given.value
    : Context.get(yield* Layer.build(RateLimiter.layerStoreMemory), RateLimiter.RateLimiterStore)

  // A store that fails must not fail the call: no cooldown is known, so none is waited.
  const consume = (source: Source) =>
    store
      .adaptiveConsume({ key: source.key, tokens: 1, fallbackLimit: 1, fallbackWindow: learningWindow })
      .pipe(
        Effect.catch((error) =>
          Effect.as(Effect.logWarning("SteadyStream: rate-limit cooldown unreadable", error), open)
        )
      )

  const feedback = (source: Source, epoch: number, error: ChatError) =>
    error._tag === "RateLimited" && error.retryAfter !== undefined
      ? store
          .adaptiveFeedback({
            key: source.key,
            epoch,
            tokens: 1,
            status: error.status ?? 429,
            retryAfter: error.retryAfter
          })
          .pipe(
            Effect.catch((cause) =>
              Effect.logWarning("SteadyStream: rate-limit cooldown not recorded", cause)
            )
          )
      : Effect.void

  const skip = (source: Source, delay: Duration.Duration) =>
    Effect.andThen(
      count(source, "skipped"),
      Effect.fail(
        new RateLimited({
          provider: source.provider,
          model: source.model,
          message: `${source.key} is cooling down after a 429 for another ${Duration.format(delay)}: not called`,
          retryAfter: delay
        })
      )
    )

  // Waits out a cooldown; the epoch of the call's slot.
  const wait = (source: Source, bounds: Bounds) =>
    Effect.gen(function* () {
      let ticket = yield* consume(source)
      while (Duration.isGreaterThan(ticket.delay, Duration.zero)) {
        const { delay, phase } = ticket
        if (Duration.isGreaterThan(delay, maxWait) || !(yield* bounds.fits(delay))) {
          return yield* skip(source, delay)
        }
        yield* Effect.logWarning("SteadyStream: waiting out a rate-limit cooldown").pipe(
          Effect.annotateLogs({ model: source.key, delayMillis: Duration.toMillis(delay), phase })
        )
        yield* count(source, "waited")
        yield* bounds.announce(delay)
        yield* Effect.sleep(delay)
        // A learned pace reserved this call's slot; after a cooldown, look again (a new epoch begins).
        ticket = phase === "cooldown" ? yield* consume(source) : { ...ticket, delay: Duration.zero }
      }
      return ticket.epoch
    })

  // Two steps, not a wrapper: no frame of the cooldown stays behind while the attempt runs (it may stream for
  // minutes).
  return { wait, feedback }
})
