/**
 * Answers that outlive the browser's connection and the instance producing
 * them. Each answer has an id; its producer (the chat call as SSE frames)
 * runs on its own, appending every frame to the `AnswerStore` under a lease;
 * readers follow the store from any frame on, on any instance. A reader that
 * finds the producer gone (its lease lapsed: the instance died) takes the
 * answer over and finishes it as a continuation of the text already stored,
 * so the text is whole and no character is written twice.
 *
 * **Details**
 *
 * - An answer ends with a `summary` frame; a reader ends after it.
 * - A producer stops (its upstream call interrupted) when the answer is
 *   cancelled, or when no reader was attached for the orphan timeout; the
 *   answer then ends with an `error` frame saying why.
 * - A store failure stops the producer without a word: its lease lapses and
 *   a reader takes over once the store answers again.
 * - When `handOver` completes (the instance shuts down and others share the
 *   store), producers stop and give their leases up, and readers end without
 *   a `summary`: their clients resume on another instance, which takes the
 *   answers over at once.
 */
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { AnswerStore, Entry, Renewal, StoreError } from "./AnswerStore.ts"
import type { Frame } from "./Frames.ts"

/** No answer has this id (never created here, or expired). */
export class UnknownAnswer extends Data.TaggedError("UnknownAnswer")<{ readonly id: string }> {}

class Fenced extends Data.TaggedError("Fenced")<{}> {}

export interface Answers {
  /** Starts producing an answer to `request` (JSON text); its id. */
  readonly start: (request: string) => Effect.Effect<string, StoreError>
  /** The answer's frames after `cursor` (all when undefined), live until its `summary` frame. */
  readonly follow: (id: string, cursor?: string) => Stream.Stream<Entry, UnknownAnswer | StoreError>
  /** Cancels the answer: its producer stops, wherever it runs. */
  readonly cancel: (id: string) => Effect.Effect<void, StoreError>
}

export interface Options {
  readonly store: AnswerStore
  /** The frames of an answer to `request`, continuing `delivered` (empty for a new answer). */
  readonly produce: (request: string, delivered: string) => Stream.Stream<Frame>
  /** How long a reader waits for a frame before it checks that the producer is alive. Default 250 ms. */
  readonly poll?: Duration.Input
  /** Completes when this instance hands its answers over to the others. Default: never. */
  readonly handOver?: Effect.Effect<void>
}

const lastEvent = "summary"

/** The text a reader has so far: the `text-delta` frames, after the last `restart`. */
export const textOf = (entries: ReadonlyArray<Frame>): string =>
  entries.reduce((text, entry) => {
    if (entry.event === "restart") return ""
    if (entry.event !== "text-delta") return text
    const data = JSON.parse(entry.data) as { readonly delta?: unknown }
    return typeof data.delta === "string" ? text + data.delta : text
  }, "")

const stopped = (why: "cancelled" | "orphaned", chars: number): ReadonlyArray<Frame> => {
  const message =
    why === "cancelled"
      ? `the answer was cancelled after ${chars} chars`
      : `nobody was reading the answer: it stopped after ${chars} chars`
  return [
    { event: "error", data: JSON.stringify({ stopped: why, message }) },
    { event: lastEvent, data: JSON.stringify({ summary: `stopped after ${chars} chars: ${why}` }) }
  ]
}

/** The answers of this instance, over `options.store`; producers stop with the scope. */
export const make = (options: Options): Effect.Effect<Answers, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { store } = options
    const scope = yield* Effect.scope
    const owner = crypto.randomUUID()
    const poll = Duration.fromInputUnsafe(options.poll ?? "250 millis")
    const heartbeat = Duration.millis(Math.max(50, Math.floor(store.limits.lease / 4)))
    const local = new Map<string, Deferred.Deferred<Renewal>>()
    const handOver = Effect.as(options.handOver ?? Effect.never, "handed-over" as const)

    const all = (id: string) => store.read(id, undefined, Duration.zero)

    // Renews the lease until it is lost or the answer is no longer wanted (or `stop` says so first).
    const renewing = (id: string, stop: Deferred.Deferred<Renewal>) =>
      Effect.raceFirst(
        Deferred.await(stop),
        Effect.gen(function* () {
          while (true) {
            yield* Effect.sleep(heartbeat)
            const renewal = yield* store.renew(id, owner)
            if (renewal !== "held") return renewal
          }
        })
      )

    const run = (id: string, request: string, delivered: string, first: ReadonlyArray<Frame>) =>
      Effect.gen(function* () {
        const stop = yield* Deferred.make<Renewal>()
        local.set(id, stop)
        const write = (frames: ReadonlyArray<Frame>) =>
          Effect.flatMap(store.append(id, owner, frames), (written) =>
            written ? Effect.void : Effect.fail(new Fenced())
          )
        const body = Stream.concat(Stream.fromIterable(first), options.produce(request, delivered))
        const ended = yield* Effect.raceAll([
          Effect.as(Stream.runForEachArray(body, write), "done" as const),
          renewing(id, stop),
          handOver
        ])
        if (ended === "cancelled" || ended === "orphaned") {
          yield* write(stopped(ended, [...textOf(yield* all(id))].length))
        }
      }).pipe(
        Effect.catch((error) =>
          Effect.logWarning(`answer ${id}: producer stopped (${error._tag}); another reader may take over`)
        ),
        // However it ended (interrupted with the instance too), the lease is given up at once.
        Effect.ensuring(Effect.ignore(store.release(id, owner))),
        Effect.ensuring(Effect.sync(() => local.delete(id))),
        Effect.forkIn(scope),
        Effect.asVoid
      )

    // The producer is gone (its lease lapsed or was given up): produce the rest here. "finished" when
    // the answer turned out to be complete, so the reader ends.
    const takeOver = (id: string) =>
      Effect.gen(function* () {
        if (local.has(id) || !(yield* store.acquire(id, owner))) return "running" as const
        const log = yield* all(id)
        const request = yield* store.request(id)
        if (request === undefined || log.some((entry) => entry.event === lastEvent)) {
          yield* store.release(id, owner)
          return "finished" as const
        }
        const delivered = textOf(log)
        const status = `the server producing this answer stopped; another one continues it after ${[...delivered].length} chars`
        yield* Effect.logInfo(`answer ${id}: taking over after ${[...delivered].length} chars`)
        yield* run(id, request, delivered, [{ event: "resumed", data: JSON.stringify({ status }) }])
        return "running" as const
      })

    return {
      start: (request) =>
        Effect.gen(function* () {
          const id = crypto.randomUUID()
          yield* store.create(id, request, owner)
          yield* run(id, request, "", [])
          return id
        }),
      follow: (id, cursor) =>
        Stream.callback<Entry, UnknownAnswer | StoreError>((queue) => {
          const end = (rest: ReadonlyArray<Entry>) =>
            Effect.andThen(Queue.offerAll(queue, rest), Queue.end(queue))
          const seenEvery = Math.floor(store.limits.orphanTimeout / 3)
          const loop = Effect.gen(function* () {
            if ((yield* store.request(id)) === undefined) return yield* Effect.fail(new UnknownAnswer({ id }))
            let at = cursor
            let seenAt = 0
            while (true) {
              const now = yield* Clock.currentTimeMillis
              if (now - seenAt >= seenEvery) {
                seenAt = now
                yield* store.seen(id)
              }
              const entries = yield* store.read(id, at, poll)
              const last = entries.at(-1)
              if (last === undefined) {
                if ((yield* takeOver(id)) === "finished")
                  return yield* end(yield* store.read(id, at, Duration.zero))
                continue
              }
              at = last.id
              if (entries.some((entry) => entry.event === lastEvent)) return yield* end(entries)
              yield* Queue.offerAll(queue, entries)
            }
          })
          // Handed over: end without a summary, so the client resumes on another instance.
          return Effect.raceFirst(loop, Effect.andThen(handOver, Queue.end(queue)))
        }),
      cancel: (id) =>
        Effect.andThen(
          store.cancel(id),
          Effect.suspend(() => {
            const stop = local.get(id)
            return stop === undefined ? Effect.void : Effect.asVoid(Deferred.succeed(stop, "cancelled"))
          })
        )
    }
  })
