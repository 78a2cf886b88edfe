/**
 * Shared state that never fails a call: each operation runs on the shared
 * store (Redis) under a timeout; when the store fails or does not answer in
 * time, the same operation runs on local state instead, and the shared store
 * is left alone for a while, so an outage costs one timeout, not one per
 * call. The outage and the recovery are logged once each; every operation
 * that ran locally is counted (`steadystream_shared_state_fallbacks_total`).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as ChatTelemetry from "../ChatTelemetry.ts"

/** Which store and operation, for the metric and the log. */
export interface What {
  readonly store: "breaker" | "cooldown" | "cache"
  readonly op: string
}

export interface Degrade {
  /**
   * Runs `shared`, or `local` when the shared store is down. Only errors
   * `isOutage` accepts (and a timeout) count as an outage; any other error
   * of `shared` (an open circuit, say) is the answer.
   */
  readonly run: <A, E, R>(
    what: What,
    shared: Effect.Effect<A, E, R>,
    local: Effect.Effect<A, E, R>,
    isOutage: (error: E) => boolean
  ) => Effect.Effect<A, E, R>
}

export interface Options {
  /** How long one shared operation may take before it counts as an outage. */
  readonly timeout: Duration.Duration
  /** How long the shared store is left alone after an outage before it is tried again. */
  readonly pause: Duration.Duration
}

class TimedOut {
  readonly _tag = "TimedOut"
}
const timedOut = new TimedOut()

export const make = (options: Options): Effect.Effect<Degrade> =>
  Effect.map(Metric.update(ChatTelemetry.sharedStateUp, 1), () => {
    let downUntil = 0
    let down = false
    const timeoutMillis = Duration.toMillis(options.timeout)
    const pauseMillis = Duration.toMillis(options.pause)

    const fallback = (what: What) =>
      Metric.update(Metric.withAttributes(ChatTelemetry.sharedStateFallbacks, { ...what }), 1)

    const outage = (what: What, cause: unknown) =>
      Effect.gen(function* () {
        downUntil = (yield* Clock.currentTimeMillis) + pauseMillis
        if (!down) {
          down = true
          yield* Metric.update(ChatTelemetry.sharedStateUp, 0)
          const reason = cause instanceof TimedOut ? `no answer within ${timeoutMillis} ms` : cause
          yield* Effect.logWarning(
            `SteadyStream: shared state unavailable, using local state (tried again every ${pauseMillis} ms)`,
            reason
          ).pipe(Effect.annotateLogs({ store: what.store, op: what.op }))
        }
      })

    const recovered = Effect.suspend(() => {
      if (!down) return Effect.void
      down = false
      return Effect.andThen(
        Metric.update(ChatTelemetry.sharedStateUp, 1),
        Effect.logInfo("SteadyStream: shared state available again")
      )
    })

    return {
      run: <A, E, R>(
        what: What,
        shared: Effect.Effect<A, E, R>,
        local: Effect.Effect<A, E, R>,
        isOutage: (error: E) => boolean
      ): Effect.Effect<A, E, R> =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          if (now < downUntil) return Effect.andThen(fallback(what), local)
          return shared.pipe(
            Effect.timeoutOrElse({ duration: options.timeout, orElse: () => Effect.fail(timedOut) }),
            Effect.tap(() => recovered),
            Effect.catch((error: E | TimedOut) =>
              error instanceof TimedOut || isOutage(error)
                ? Effect.andThen(Effect.andThen(outage(what, error), fallback(what)), local)
                : Effect.fail(error)
            )
          )
        })
    }
  })
