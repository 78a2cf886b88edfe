/**
 * Error-rate alerting: a sliding time window over request outcomes that
 * raises an alert when the failure ratio passes a threshold and clears it
 * when the ratio falls back.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import * as Stream from "effect/Stream"

/**
 * An alert being raised or cleared, with the window's numbers at that moment.
 *
 * @since 0.1.0
 */
export interface Alert {
  readonly type: "raised" | "cleared"
  /** Failures / total over the window. */
  readonly ratio: number
  readonly failures: number
  readonly total: number
  /** Epoch milliseconds (the Effect `Clock`). */
  readonly at: number
}

/**
 * The window's numbers now.
 *
 * @since 0.1.0
 */
export interface Status {
  readonly ratio: number
  readonly failures: number
  readonly total: number
  readonly alerting: boolean
}

/**
 * @since 0.1.0
 */
export interface Options {
  /** How far back outcomes count. Default 1 minute. */
  readonly window?: Duration.Input
  /** Raise when failures / total reaches this ratio. Default 0.5. */
  readonly threshold?: number
  /** Clear when the ratio falls below this. Default: `threshold`. */
  readonly clearBelow?: number
  /** Outcomes needed in the window before an alert can be raised. Default 10. */
  readonly minSamples?: number
}

/**
 * @since 0.1.0
 */
export interface Service {
  /** Records one outcome: `true` for success, `false` for failure. */
  readonly record: (success: boolean) => Effect.Effect<void>
  /** The window's numbers, after dropping outcomes older than the window. */
  readonly status: Effect.Effect<Status>
  /** Alerts raised and cleared from the moment of subscription on. */
  readonly alerts: Stream.Stream<Alert>
}

/**
 * The monitor as a service. `ChatTelemetry` records every request's outcome
 * in it when it is in the context.
 *
 * @since 0.1.0
 */
export class ErrorRateMonitor extends Context.Service<ErrorRateMonitor, Service>()(
  "@steadystream/core/ErrorRateMonitor"
) {}

/**
 * Creates a monitor.
 *
 * **Details**
 *
 * Outcomes older than `window` are dropped whenever the monitor is used. An
 * alert is raised (and logged at warning) once the window holds at least
 * `minSamples` outcomes and the failure ratio reaches `threshold`; it is
 * cleared (and logged at info) when the ratio falls below `clearBelow`.
 * Memory is bounded by the number of outcomes within one window.
 *
 * **Gotchas**
 *
 * Interrupted requests are not outcomes: `ChatTelemetry` does not record them.
 *
 * @since 0.1.0
 */
export const make = Effect.fnUntraced(function* (options: Options = {}) {
  const windowMillis = Duration.toMillis(Duration.fromInputUnsafe(options.window ?? "1 minute"))
  const threshold = options.threshold ?? 0.5
  const clearBelow = options.clearBelow ?? threshold
  const minSamples = options.minSamples ?? 10
  const pubsub = yield* PubSub.unbounded<Alert>()

  // Outcomes in arrival order; `head` is the first one still inside the window.
  const times: Array<number> = []
  const successes: Array<boolean> = []
  let head = 0
  let failures = 0
  let alerting = false

  const prune = (now: number) => {
    while (head < times.length && times[head]! <= now - windowMillis) {
      if (!successes[head]) failures--
      head++
    }
    if (head > 1024 && head * 2 > times.length) {
      times.splice(0, head)
      successes.splice(0, head)
      head = 0
    }
  }

  const snapshot = (): Status => {
    const total = times.length - head
    return { ratio: total === 0 ? 0 : failures / total, failures, total, alerting }
  }

  const transition = (now: number): Alert | undefined => {
    const { ratio, total } = snapshot()
    if (!alerting && total >= minSamples && ratio >= threshold) {
      alerting = true
      return { type: "raised", ratio, failures, total, at: now }
    }
    if (alerting && ratio < clearBelow) {
      alerting = false
      return { type: "cleared", ratio, failures, total, at: now }
    }
    return undefined
  }

  const publish = (alert: Alert | undefined) =>
    alert === undefined
      ? Effect.void
      : Effect.andThen(
          alert.type === "raised"
            ? Effect.logWarning("steadystream: error rate above threshold")
            : Effect.logInfo("steadystream: error rate back below threshold"),
          PubSub.publish(pubsub, alert)
        ).pipe(
          Effect.annotateLogs({ ratio: alert.ratio, failures: alert.failures, total: alert.total }),
          Effect.asVoid
        )

  const service: Service = {
    record: (success) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        prune(now)
        times.push(now)
        successes.push(success)
        if (!success) failures++
        return publish(transition(now))
      }),
    status: Effect.flatMap(Clock.currentTimeMillis, (now) => {
      prune(now)
      return Effect.as(publish(transition(now)), snapshot())
    }),
    alerts: Stream.fromPubSub(pubsub)
  }
  return service
})

/**
 * Provides an `ErrorRateMonitor`.
 *
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<ErrorRateMonitor> =>
  Layer.effect(ErrorRateMonitor, make(options))
