/**
 * Timers on the current `Clock` that cost no fiber: with the live clock, a
 * plain host timer; with any other clock (a `TestClock`, say), a fiber
 * sleeping on it, so that tests move time as before. A deadline armed this
 * way is a few bytes and one host timer per open stream, instead of a fiber
 * parked in a sleep.
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
   * Calls `f` once, after `millis` (at most about 24 days: a longer wait
   * calls it early, which `watch` allows for); returns a cancel.
   */
  readonly after: (millis: number, f: () => void) => () => void
}

/** The longest delay a host timer takes. */
const maxMillis = 2 ** 31 - 1

const live = Object.getPrototypeOf(Clock.Clock.defaultValue())

const hostTimer = (millis: number, f: () => void) => {
  const handle = setTimeout(f, Math.min(Math.max(millis, 0), maxMillis))
  return () => clearTimeout(handle)
}

/** The live clock's timers, shared by every call. */
const liveTimer: Timer = { now: () => Date.now(), after: hostTimer }

/** The timers of the current clock. */
export const make: Effect.Effect<Timer> = Effect.flatMap(Clock.clockWith(Effect.succeed), (clock) => {
  if (Object.getPrototypeOf(clock) === live) return Effect.succeed(liveTimer)
  const now = () => clock.currentTimeMillisUnsafe()
  return Effect.map(Effect.context<never>(), (context) => ({
    now,
    after: (millis, f) => {
      const fiber = Effect.runForkWith(context)(
        Effect.andThen(clock.sleep(Duration.millis(Math.max(millis, 0))), Effect.sync(f))
      )
      return () => fiber.interruptUnsafe()
    }
  }))
})

/**
 * Calls `expire` once the time `deadline()` returns has passed. The deadline
 * is read again whenever the timer wakes, so it may move later without
 * re-arming anything; the timer wakes at least every `every` milliseconds
 * (for a deadline that may also move earlier). Returns a cancel.
 */
export const watch = (
  timer: Timer,
  deadline: () => number,
  expire: () => void,
  every = Number.POSITIVE_INFINITY
): (() => void) => {
  let cancel: () => void = () => {}
  const arm = () => {
    let fired = false
    const armed = timer.after(Math.min(deadline() - timer.now(), every), () => {
      fired = true
      check()
    })
    // A timer that fired at once (a zero wait on some clocks) has already armed the next one, or expired.
    if (!fired) cancel = armed
  }
  const check = () => {
    if (deadline() - timer.now() > 0) arm()
    else expire()
  }
  arm()
  return () => cancel()
}
