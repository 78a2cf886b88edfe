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
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as Result from "effect/Result"
import type * as Tracer from "effect/Tracer"
import { type ChatError, Timeout, type TimeoutPhase } from "../ChatError.ts"
import type * as Handoff from "./Handoff.ts"
import * as Relay from "./Relay.ts"
import * as Span from "./Span.ts"
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

type Ended<A> = (exit: Exit.Exit<A, ChatError>) => Effect.Effect<void>

/** `ended` first, then the exit as a `Result` (an interruption or a defect goes on as it is). */
const settle = <A>(
  exit: Exit.Exit<A, ChatError>,
  ended: Ended<A>
): Effect.Effect<Result.Result<A, ChatError>> => Effect.andThen(ended(exit), Effect.result(exit))

const timeout = (source: Source, phase: TimeoutPhase, duration: Duration.Duration, message: string) =>
  new Timeout({ provider: source.provider, model: source.model, phase, timeout: duration, message })

/** The watchdog of one streaming attempt. */
export interface Watchdog {
  /** Something arrived: the next must come within `idle`. */
  readonly touch: () => void
  /** No deadline while the consumer takes a handoff (a slow consumer is not a stalled model); `touch` after. */
  readonly hold: () => void
  /**
   * Runs `effect` in a fiber of its own, a child of `parent` (the attempt's
   * span), until the current deadline passes; then interrupts it, and it
   * fails with a retryable `Timeout`. `ended` sees how it ended (a
   * stopped caller included) before the caller gets it as a `Result`.
   * Detached: no fiber of the caller waits for it.
   */
  readonly race: <A>(
    effect: Effect.Effect<A, ChatError>,
    parent: Tracer.AnySpan,
    ended: (exit: Exit.Exit<A, ChatError>) => Effect.Effect<void>
  ) => Relay.Detached<Result.Result<A, ChatError>>
}

// One object per attempt, its steps as methods: `touch` runs on every chunk; it is also what its timer watches.
class AttemptWatchdog extends Timer.Watch implements Watchdog {
  private phase: TimeoutPhase = "first-token"
  private deadline: number
  private fiber: Fiber.Fiber<unknown, ChatError> | undefined = undefined
  // Of the running race (whose `A` is its own).
  private resume: ((effect: Effect.Effect<Result.Result<unknown, ChatError>>) => void) | undefined = undefined
  private ended: Ended<unknown> = () => Effect.void
  private readonly idleMillis: number
  private readonly source: Source
  private readonly options: Options

  constructor(source: Source, options: Options, timer: Timer.Timer) {
    const idleMillis = Duration.toMillis(options.idle)
    // The deadline only moves later, except once: from first-token to the (shorter) idle one after the
    // first chunk. Waking at least every `idle` catches that too, and exactly on time.
    super(timer, idleMillis)
    this.source = source
    this.options = options
    this.idleMillis = idleMillis
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

  due(): number {
    return this.deadline
  }

  protected expire(): void {
    const fiber = this.fiber as Fiber.Fiber<unknown, ChatError>
    this.resume?.(Effect.andThen(Fiber.interrupt(fiber), settle(Exit.fail(this.expired()), this.ended)))
  }

  race<A>(
    effect: Effect.Effect<A, ChatError>,
    parent: Tracer.AnySpan,
    ended: Ended<A>
  ): Relay.Detached<Result.Result<A, ChatError>> {
    return new Relay.Detached((resume) =>
      Effect.map(Span.within(Effect.forkDetach(effect, { startImmediately: true }), parent), (fiber) => {
        this.fiber = fiber
        this.resume = resume as (effect: Effect.Effect<Result.Result<unknown, ChatError>>) => void
        this.ended = ended as Ended<unknown>
        this.start()
        fiber.addObserver((exit) => {
          this.stop()
          resume(settle(exit, ended))
        })
        return Effect.suspend(() => {
          this.stop()
          return Effect.flatMap(Fiber.interrupt(fiber), () => ended(fiber.pollUnsafe() ?? Exit.interrupt()))
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

// The `total` deadline of one call, watched by its timer.
class CallDeadline extends Timer.Watch {
  private readonly end: number
  private readonly source: Source
  private readonly total: Duration.Duration
  private readonly expiry: Handoff.Expiry<ChatError>

  constructor(
    source: Source,
    total: Duration.Duration,
    timer: Timer.Timer,
    expiry: Handoff.Expiry<ChatError>
  ) {
    super(timer)
    this.source = source
    this.total = total
    this.expiry = expiry
    this.end = timer.now() + Duration.toMillis(total)
  }

  due(): number {
    return this.end
  }

  protected expire(): void {
    this.expiry.expired(
      timeout(
        this.source,
        "total",
        this.total,
        `The call did not finish within ${Duration.format(this.total)}`
      )
    )
  }
}

/**
 * The `total` deadline of a call: once armed, `expiry` is told of a final
 * (non-retryable) `Timeout` when it passes, unless it was stopped first.
 */
export const total =
  (source: Source, options: Options): Handoff.Deadline<ChatError> =>
  (expiry) =>
    Effect.map(Timer.make, (timer) => new CallDeadline(source, options.total, timer, expiry).start())
