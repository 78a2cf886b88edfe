/**
 * Every deadline of a call in one place: `firstToken` (start of a streaming
 * attempt to its first event), `idle` (between two events) and `total` (the
 * whole call).
 *
 * The per-attempt deadline is one plain number moved on each pulled chunk and
 * watched by a single timer fiber, instead of a timer armed per chunk.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { type ChatError, Timeout, type TimeoutPhase } from "../ChatError.ts"

export interface Options {
  readonly firstToken: Duration.Duration
  readonly idle: Duration.Duration
  readonly total: Duration.Duration
}

/** Who is being timed, for the error. */
export interface Source {
  readonly provider: string
  readonly model: string
}

const timeout = (source: Source, phase: TimeoutPhase, duration: Duration.Duration, message: string) =>
  new Timeout({ provider: source.provider, model: source.model, phase, timeout: duration, message })

/** The watchdog of one streaming attempt. */
export interface Watchdog {
  /** Something arrived: the next must come within `idle`. */
  readonly touch: () => void
  /** No deadline while the consumer takes a handoff (a slow consumer is not a stalled model); `touch` after. */
  readonly hold: () => void
  /** Runs `effect` until the current deadline passes; then fails with a retryable `Timeout`. */
  readonly race: <A>(effect: Effect.Effect<A, ChatError>) => Effect.Effect<A, ChatError>
}

export const watchdog = (source: Source, options: Options): Effect.Effect<Watchdog> =>
  Effect.map(Clock.clockWith(Effect.succeed), (clock) => {
    const idleMillis = Duration.toMillis(options.idle)
    let phase: TimeoutPhase = "first-token"
    let deadline = clock.currentTimeMillisUnsafe() + Duration.toMillis(options.firstToken)
    const expire = Effect.gen(function* () {
      while (true) {
        const left = deadline - clock.currentTimeMillisUnsafe()
        if (left <= 0) {
          const duration = phase === "first-token" ? options.firstToken : options.idle
          const what = phase === "first-token" ? "first event" : "event"
          return yield* Effect.fail(
            timeout(source, phase, duration, `No ${what} within ${Duration.format(duration)}`)
          )
        }
        // The deadline only moves later, except once: from first-token to the (shorter) idle one after
        // the first chunk. Waking at least every `idle` catches that too, and exactly on time.
        yield* Effect.sleep(Duration.millis(Math.min(left, idleMillis)))
      }
    })
    return {
      touch: () => {
        phase = "idle"
        deadline = clock.currentTimeMillisUnsafe() + idleMillis
      },
      hold: () => {
        phase = "idle"
        deadline = Number.POSITIVE_INFINITY
      },
      race: (effect) => Effect.raceFirst(effect, expire)
    }
  })

/** The end of a whole call: fails with a final (non-retryable) `Timeout` once `total` has passed. */
export const total = (source: Source, options: Options): Effect.Effect<never, ChatError> =>
  Effect.andThen(
    Effect.sleep(options.total),
    Effect.failSync(() =>
      timeout(
        source,
        "total",
        options.total,
        `The call did not finish within ${Duration.format(options.total)}`
      )
    )
  )

/** The time left before `total` ends, from a call's start. */
export const remaining = Effect.fnUntraced(function* (options: Options) {
  const end = (yield* Clock.currentTimeMillis) + Duration.toMillis(options.total)
  return Effect.map(Clock.currentTimeMillis, (now) => end - now)
})
