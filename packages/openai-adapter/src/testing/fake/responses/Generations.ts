/**
 * The fake server's responses as generations that run on their own: each
 * appends its planned events to a log (numbered from 0, waiting the step's
 * `delay` before each content event) whether or not anybody reads them, as a
 * background response does; readers follow the log from any sequence number.
 * A background generation runs in the server's scope (a dropped connection
 * does not stop it; `cancel` does); any other runs in its request's fiber and
 * stops with its connection. The store keeps the last `limit` generations.
 *
 * Part of `FakeOpenAiServer`; not re-exported from `/testing`.
 *
 * @since 0.2.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import type * as Scope from "effect/Scope"
import * as Transport from "../Transport.ts"
import * as Events from "./Events.ts"

/**
 * One event of the log.
 *
 * @since 0.2.0
 */
export interface Logged extends Events.Planned {
  readonly sequence: number
  /** The event's SSE frame, built once for every reader. */
  readonly frame: string
}

/**
 * One response and its log.
 *
 * @since 0.2.0
 */
export interface Generation {
  readonly identity: Events.Identity
  /** The event with this sequence number: waits while the generation runs; `undefined` once it stopped short. */
  readonly at: (sequence: number) => Effect.Effect<Logged | undefined>
  /** The response object as it stands (the terminal event's, once there is one). */
  readonly snapshot: () => Record<string, unknown>
  /** Whether `cancel` was called. */
  readonly cancelled: () => boolean
}

/**
 * The server's generations.
 *
 * @since 0.2.0
 */
export interface Store {
  /**
   * Starts a generation of `planned`: in the server's scope when it is a
   * background one, else in the caller's fiber (as a child, so it stops with
   * the request).
   */
  readonly start: (
    identity: Events.Identity,
    planned: ReadonlyArray<Events.Planned>,
    delay: Duration.Input | undefined
  ) => Effect.Effect<Generation>
  readonly get: (id: string) => Generation | undefined
  /** Stops a generation for good. */
  readonly cancel: (generation: Generation) => Effect.Effect<void>
}

/** A generation with the handles its producer and `cancel` use. */
interface Entry {
  readonly generation: Generation
  readonly append: (planned: Events.Planned) => void
  /** No more events will come. */
  readonly finish: () => void
  readonly markCancelled: () => void
  stop: Effect.Effect<void>
}

const entry = (identity: Events.Identity): Entry => {
  const log: Array<Logged> = []
  const waiting = new Set<() => void>()
  let stopped = false
  let cancelled = false
  let status = Events.response(identity, identity.background ? "queued" : "in_progress")
  const wake = () => {
    for (const resume of waiting) resume()
    waiting.clear()
  }
  const at = (sequence: number): Effect.Effect<Logged | undefined> =>
    Effect.suspend(() => {
      const event = log[sequence]
      if (event !== undefined || stopped) return Effect.succeed(event)
      return Effect.andThen(
        Effect.callback<void>((resume) => {
          const wakeUp = () => resume(Effect.void)
          waiting.add(wakeUp)
          return Effect.sync(() => waiting.delete(wakeUp))
        }),
        at(sequence)
      )
    })
  return {
    generation: {
      identity,
      at,
      snapshot: () => (cancelled ? { ...status, status: "cancelled" } : status),
      cancelled: () => cancelled
    },
    append: (planned) => {
      log.push({ ...planned, sequence: log.length, frame: Events.frame(planned.event, log.length) })
      const inner = planned.event.response
      if (typeof inner === "object" && inner !== null) status = inner as Record<string, unknown>
      wake()
    },
    finish: () => {
      stopped = true
      wake()
    },
    markCancelled: () => {
      cancelled = true
    },
    stop: Effect.void
  }
}

const produce = (target: Entry, planned: ReadonlyArray<Events.Planned>, delay: Duration.Input | undefined) =>
  Effect.gen(function* () {
    for (const event of planned) {
      if (event.content && delay !== undefined) yield* Transport.sleep(delay)
      target.append(event)
    }
  }).pipe(Effect.ensuring(Effect.sync(target.finish)))

/**
 * A store whose background generations stop when the scope closes.
 *
 * @since 0.2.0
 */
export const make = (limit = 100): Effect.Effect<Store, never, Scope.Scope> =>
  Effect.map(FiberSet.make(), (fibers): Store => {
    const entries = new Map<string, Entry>()
    return {
      get: (id) => entries.get(id)?.generation,
      start: (identity, planned, delay) =>
        Effect.gen(function* () {
          const created = entry(identity)
          entries.set(identity.id, created)
          for (const id of entries.keys()) {
            if (entries.size <= limit) break
            entries.delete(id)
          }
          const run = produce(created, planned, delay)
          const fiber = identity.background
            ? yield* FiberSet.run(fibers, run, { startImmediately: true })
            : yield* Effect.forkChild(run, { startImmediately: true })
          created.stop = Fiber.interrupt(fiber)
          return created.generation
        }),
      cancel: (generation) =>
        Effect.suspend(() => {
          const found = entries.get(generation.identity.id)
          if (found === undefined) return Effect.void
          found.markCancelled()
          return found.stop
        })
    }
  })
