/**
 * Where the backend example keeps its answers so they outlive a browser
 * connection and the instance producing them: per answer, the request, the
 * SSE frames in order (each with an id, the SSE cursor), and a lease naming
 * the instance that produces it. In memory here (one instance); on Redis in
 * `RedisAnswerStore.ts` (a fleet).
 *
 * **Details**
 *
 * - Appending is fenced by the lease: an instance that lost it (it stalled
 *   past the lease, another took over) appends nothing, so no frame is ever
 *   written twice.
 * - Renewing the lease also says whether the answer is still wanted: not
 *   when it was cancelled, nor when no reader was seen for the orphan timeout.
 */
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { Frame } from "./Frames.ts"

/** A frame as stored, with its id (the SSE `id:`, sent back as `Last-Event-ID`). */
export interface Entry extends Frame {
  readonly id: string
}

/** What renewing a lease found. */
export type Renewal = "held" | "lost" | "cancelled" | "orphaned"

/** The store failed (Redis unreachable, say). */
export class StoreError extends Data.TaggedError("StoreError")<{ readonly cause: unknown }> {}

export interface AnswerStore {
  /**
   * Whether other instances use this store too (Redis): then an instance that
   * shuts down hands its answers over instead of ending them.
   */
  readonly shared: boolean
  /** The lease and the orphan timeout, in milliseconds. */
  readonly limits: { readonly lease: number; readonly orphanTimeout: number }
  /** Records a new answer (its request as JSON text) and gives `owner` its lease. */
  readonly create: (answer: string, request: string, owner: string) => Effect.Effect<void, StoreError>
  /** The answer's request, or undefined for an unknown (or expired) answer. */
  readonly request: (answer: string) => Effect.Effect<string | undefined, StoreError>
  /** Appends `frames` if `owner` holds the lease; false (nothing written) when it does not. */
  readonly append: (
    answer: string,
    owner: string,
    frames: ReadonlyArray<Frame>
  ) => Effect.Effect<boolean, StoreError>
  /** Entries after `cursor` (from the start when undefined), waiting up to `wait` for one to come. */
  readonly read: (
    answer: string,
    cursor: string | undefined,
    wait: Duration.Duration
  ) => Effect.Effect<ReadonlyArray<Entry>, StoreError>
  /** Takes the lease if nobody holds it. */
  readonly acquire: (answer: string, owner: string) => Effect.Effect<boolean, StoreError>
  /** Extends `owner`'s lease, unless it was lost or the answer is no longer wanted. */
  readonly renew: (answer: string, owner: string) => Effect.Effect<Renewal, StoreError>
  /** Gives the lease up (the answer is complete). */
  readonly release: (answer: string, owner: string) => Effect.Effect<void, StoreError>
  /** A reader is attached: the answer is wanted for another orphan timeout. */
  readonly seen: (answer: string) => Effect.Effect<void, StoreError>
  /** The reader cancelled the answer: its producer stops at its next renewal. */
  readonly cancel: (answer: string) => Effect.Effect<void, StoreError>
}

/**
 * How long things last. Defaults: `lease` 3 s (a dead producer is replaced
 * after at most that), `orphanTimeout` 5 s (an answer nobody reads is
 * stopped), `timeToLive` 1 hour (of everything about an answer, from its last
 * frame), `maxFrames` 20,000 per answer (older frames are dropped), and
 * `maxAnswers` 1,000 in memory (oldest dropped).
 */
export interface Options {
  readonly lease?: Duration.Input
  readonly orphanTimeout?: Duration.Input
  readonly timeToLive?: Duration.Input
  readonly maxFrames?: number
  readonly maxAnswers?: number
}

/** The options with their defaults, in milliseconds. */
export const resolve = (options: Options = {}) => ({
  lease: Duration.toMillis(Duration.fromInputUnsafe(options.lease ?? "3 seconds")),
  orphanTimeout: Duration.toMillis(Duration.fromInputUnsafe(options.orphanTimeout ?? "5 seconds")),
  timeToLive: Duration.toMillis(Duration.fromInputUnsafe(options.timeToLive ?? "1 hour")),
  maxFrames: Math.max(1, options.maxFrames ?? 20_000),
  maxAnswers: Math.max(1, options.maxAnswers ?? 1_000)
})

interface Answer {
  readonly request: string
  readonly entries: Array<Entry>
  next: number
  owner: string | undefined
  leaseUntil: number
  seenUntil: number
  expiresAt: number
  cancelled: boolean
  arrived: Deferred.Deferred<void>
}

/** The store in this process's memory: answers survive a browser's reconnect, not the process. */
export const memory = (options: Options = {}): Effect.Effect<AnswerStore> =>
  Effect.gen(function* () {
    const limits = resolve(options)
    const clock = yield* Clock.clockWith(Effect.succeed)
    const answers = new Map<string, Answer>()
    const now = () => clock.currentTimeMillisUnsafe()
    const find = (id: string) => {
      const answer = answers.get(id)
      if (answer !== undefined && answer.expiresAt <= now()) answers.delete(id)
      return answers.get(id)
    }
    const holds = (answer: Answer, owner: string) => answer.owner === owner && answer.leaseUntil > now()
    const after = (answer: Answer, cursor: string | undefined) =>
      cursor === undefined
        ? answer.entries
        : answer.entries.filter((entry) => Number(entry.id) > Number(cursor))

    return {
      shared: false,
      limits,
      create: (id, request, owner) =>
        Effect.map(Deferred.make<void>(), (arrived) => {
          const at = now()
          answers.set(id, {
            request,
            entries: [],
            next: 1,
            owner,
            leaseUntil: at + limits.lease,
            seenUntil: at + limits.orphanTimeout,
            expiresAt: at + limits.timeToLive,
            cancelled: false,
            arrived
          })
          for (const oldest of answers.keys()) {
            if (answers.size <= limits.maxAnswers) break
            answers.delete(oldest)
          }
        }),
      request: (id) => Effect.sync(() => find(id)?.request),
      append: (id, owner, frames) =>
        Effect.gen(function* () {
          const answer = find(id)
          if (answer === undefined || !holds(answer, owner)) return false
          for (const frame of frames) answer.entries.push({ ...frame, id: String(answer.next++) })
          answer.entries.splice(0, Math.max(0, answer.entries.length - limits.maxFrames))
          answer.expiresAt = now() + limits.timeToLive
          const arrived = answer.arrived
          answer.arrived = yield* Deferred.make<void>()
          yield* Deferred.succeed(arrived, undefined)
          return true
        }),
      read: (id, cursor, wait) =>
        Effect.gen(function* () {
          const answer = find(id)
          if (answer === undefined) return []
          const ready = after(answer, cursor)
          if (ready.length > 0 || Duration.isZero(wait)) return ready
          yield* Deferred.await(answer.arrived).pipe(Effect.timeoutOption(wait))
          return after(answer, cursor)
        }),
      acquire: (id, owner) =>
        Effect.sync(() => {
          const answer = find(id)
          if (answer === undefined || (answer.owner !== undefined && answer.leaseUntil > now())) return false
          answer.owner = owner
          answer.leaseUntil = now() + limits.lease
          return true
        }),
      renew: (id, owner) =>
        Effect.sync((): Renewal => {
          const answer = find(id)
          if (answer === undefined || !holds(answer, owner)) return "lost"
          if (answer.cancelled) return "cancelled"
          if (answer.seenUntil <= now()) return "orphaned"
          answer.leaseUntil = now() + limits.lease
          return "held"
        }),
      release: (id, owner) =>
        Effect.sync(() => {
          const answer = find(id)
          if (answer !== undefined && answer.owner === owner) answer.owner = undefined
        }),
      seen: (id) =>
        Effect.sync(() => {
          const answer = find(id)
          if (answer !== undefined) answer.seenUntil = now() + limits.orphanTimeout
        }),
      cancel: (id) =>
        Effect.sync(() => {
          const answer = find(id)
          if (answer !== undefined) answer.cancelled = true
        })
    }
  })
