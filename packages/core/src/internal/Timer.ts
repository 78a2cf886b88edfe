/**
 * Deadline timers on the current `Clock` that cost no fiber and no closure:
 * with the live clock, a plain host timer; with any other clock (a
 * `TestClock`, say), a fiber sleeping on it, so that tests move time as
 * before. A deadline watched this way is one small object and one host timer
 * per open stream, instead of a fiber parked in a sleep.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

export interface Timer {
  /** The clock's time, in milliseconds. */
  readonly now: () => number
  /**
   * Calls `watch.check()` once, after `millis` (at most about 24 days: a
   * longer wait calls it early, which `Watch` allows for); returns the handle
   * `stop` takes.
   */
  readonly start: (millis: number, watch: Watch) => unknown
  readonly stop: (handle: unknown) => void
}

/** The longest delay a host timer takes. */
const maxMillis = 2 ** 31 - 1

const live = Object.getPrototypeOf(Clock.Clock.defaultValue())

// The host timer's callback, shared: the watch is its argument, so that arming one makes no closure.
const wake = (watch: Watch) => watch.check()

/** The live clock's timers, shared by every call. */
const liveTimer: Timer = {
  now: () => Date.now(),
  start: (millis, watch) => setTimeout(wake, Math.min(Math.max(millis, 0), maxMillis), watch),
  stop: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>)
}

/** The timers of the current clock. */
export const make: Effect.Effect<Timer> = Effect.flatMap(Clock.clockWith(Effect.succeed), (clock) => {
  if (Object.getPrototypeOf(clock) === live) return Effect.succeed(liveTimer)
  return Effect.map(
    Effect.context<never>(),
    (context): Timer => ({
      now: () => clock.currentTimeMillisUnsafe(),
      start: (millis, watch) =>
        Effect.runForkWith(context)(
          Effect.andThen(
            clock.sleep(Duration.millis(Math.max(millis, 0))),
            Effect.sync(() => watch.check())
          )
        ),
      stop: (handle) => (handle as { readonly interruptUnsafe: () => void }).interruptUnsafe()
    })
  )
})

/**
 * A deadline on a timer: `expire` is called once the time `due` returns has
 * passed. The deadline is read again whenever the timer wakes, so it may move
 * later without re-arming anything; the timer wakes at least every `every`
 * milliseconds (for a deadline that may also move earlier). `start` arms it,
 * `stop` disarms it. The deadline's owner extends it: one object per
 * deadline, the timer's own included.
 */
export abstract class Watch {
  private handle: unknown = undefined
  private armings = 0
  private stopped = false
  protected readonly timer: Timer
  private readonly every: number

  constructor(timer: Timer, every = Number.POSITIVE_INFINITY) {
    this.timer = timer
    this.every = every
  }

  /** The deadline, in the clock's milliseconds. */
  abstract due(): number

  /** Called once, when the deadline has passed. */
  protected abstract expire(): void

  start(): this {
    this.stopped = false
    this.arm()
    return this
  }

  /** The timer woke: expire, or wait on for a deadline that moved later. */
  check(): void {
    this.handle = undefined
    if (this.stopped) return
    if (this.due() - this.timer.now() > 0) {
      this.arm()
    } else {
      this.stopped = true
      this.expire()
    }
  }

  stop(): void {
    this.stopped = true
    if (this.handle !== undefined) this.timer.stop(this.handle)
    this.handle = undefined
  }

  private arm(): void {
    const arming = ++this.armings
    const handle = this.timer.start(Math.min(this.due() - this.timer.now(), this.every), this)
    // A timer that fired at once (a zero wait on some clocks) has already armed the next one, or expired.
    if (arming === this.armings && !this.stopped) this.handle = handle
  }
}
