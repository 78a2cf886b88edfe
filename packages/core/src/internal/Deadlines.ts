/**
 * Every deadline of a call in one place: `firstToken` (start of a streaming
 * attempt to its first event), `idle` (between two events) and `total` (the
 * whole call).
 *
 * The per-attempt deadline is one plain number moved on each pulled chunk and
 * watched by one `Timer` (a host timer with the live clock), re-armed only
 * when it fires early: no timer per chunk, and no fiber parked in a sleep.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { type ChatError, Timeout, type TimeoutPhase } from "../ChatError.ts"
import * as Timer from "./Timer.ts"

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
  /**
   * Runs `effect` in a fiber of its own until the current deadline passes;
   * then interrupts it and fails with a retryable `Timeout`.
   */
  readonly race: <A>(effect: Effect.Effect<A, ChatError>) => Effect.Effect<A, ChatError>
}

// One object per attempt, its steps as methods: `touch` runs on every chunk.
class AttemptWatchdog implements Watchdog {
  private phase: TimeoutPhase = "first-token"
  private deadline: number
  private readonly idleMillis: number
  private readonly source: Source
  private readonly options: Options
  private readonly timer: Timer.Timer

  constructor(source: Source, options: Options, timer: Timer.Timer) {
    this.source = source
    this.options = options
    this.timer = timer
    this.idleMillis = Duration.toMillis(options.idle)
    this.deadline = timer.now() + Duration.toMillis(options.firstToken)
  }

  touch(): void {
    this.phase = "idle"
    this.deadline = this.timer.now() + this.idleMillis
  }

  hold(): void {
    this.phase = "idle"
    this.deadline = Number.POSITIVE_INFINITY
  }

  race<A>(effect: Effect.Effect<A, ChatError>): Effect.Effect<A, ChatError> {
    return Effect.flatMap(Effect.forkChild(effect, { startImmediately: true }), (fiber) =>
      Effect.callback<A, ChatError>((resume) => {
        // The deadline only moves later, except once: from first-token to the (shorter) idle one after
        // the first chunk. Waking at least every `idle` catches that too, and exactly on time.
        const cancel = Timer.watch(
          this.timer,
          () => this.deadline,
          () => resume(Effect.andThen(Fiber.interrupt(fiber), Effect.fail(this.expired()))),
          this.idleMillis
        )
        fiber.addObserver((exit) => {
          cancel()
          resume(exit)
        })
        return Effect.suspend(() => {
          cancel()
          return Fiber.interrupt(fiber)
        })
      })
    )
  }

  private expired(): Timeout {
    const first = this.phase === "first-token"
    const duration = first ? this.options.firstToken : this.options.idle
    return timeout(
      this.source,
      this.phase,
      duration,
      `No ${first ? "first event" : "event"} within ${Duration.format(duration)}`
    )
  }
}

export const watchdog = (source: Source, options: Options): Effect.Effect<Watchdog> =>
  Effect.map(Timer.make, (timer) => new AttemptWatchdog(source, options, timer))

/**
 * Arms the `total` deadline of a call: `expire` is called with a final
 * (non-retryable) `Timeout` once it passes, unless the returned cancel was
 * called first.
 */
export const total = (
  source: Source,
  options: Options
): Effect.Effect<(expire: (error: ChatError) => void) => () => void> =>
  Effect.map(Timer.make, (timer) => (expire) => {
    const end = timer.now() + Duration.toMillis(options.total)
    return Timer.watch(
      timer,
      () => end,
      () =>
        expire(
          timeout(
            source,
            "total",
            options.total,
            `The call did not finish within ${Duration.format(options.total)}`
          )
        )
    )
  })

/** The time left before `total` ends, from a call's start. */
export const remaining = Effect.fnUntraced(function* (options: Options) {
  const end = (yield* Clock.currentTimeMillis) + Duration.toMillis(options.total)
  return Effect.map(Clock.currentTimeMillis, (now) => end - now)
})
