/**
 * True resume: after a broken stream, pick up the same generation after the
 * newest checkpoint the consumer has received, instead of asking for a
 * continuation. Exact by construction: the resumed events are the rest of
 * the answer the consumer was reading, so the attempt's reading (held text,
 * replayed tool calls, an unverified continuation head) carries over as it
 * was.
 *
 * One tracker per call holds the newest resume point: recorded by the
 * streamed attempt after each chunk that ends with a newer checkpoint (a
 * chunk without one makes the point inexact: it is cancelled, never
 * resumed, since a resume would repeat that chunk), kept after a break
 * (`StreamTruncated`, a lost connection, a stall, a retryable HTTP status on
 * a resume), dropped when the generation finished, and dropped with a
 * best-effort cancel when the call abandons the generation (another error, a
 * rejected continuation, a new step, the end of the call, an interrupted
 * consumer).
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { ChatError } from "../ChatError.ts"
import type { ChatRequest } from "../ChatRequest.ts"
import type { ModelEvent, ResumeCursor } from "../ModelEvent.ts"
import { sameTarget, type Target } from "./Chain.ts"
import type * as Continuation from "./Continuation.ts"

/** How long a cancel may take before it is given up. It never holds up the consumer. */
export const cancelTimeout = Duration.seconds(5)

/** Where a broken generation can be picked up again. */
interface Point {
  readonly target: Target
  /** The request that started the generation. */
  readonly request: ChatRequest
  readonly cursor: ResumeCursor
  readonly reading: Continuation.Reading
  /**
   * Whether the cursor covers everything read: false once a chunk arrived
   * without a newer checkpoint (a resume would repeat that chunk); then the
   * generation can only be cancelled.
   */
  readonly exact: boolean
}

/** What one streamed attempt reads, where its reading starts, and where it reports its progress. */
export interface Leg {
  readonly events: Stream.Stream<ModelEvent, ChatError>
  readonly reading: Continuation.Reading
  /** Called after each chunk the attempt read; `finished` once its answer is complete. */
  readonly record: (reading: Continuation.Reading, finished: boolean) => void
}

/** What the call does after a failed attempt, as far as resume is concerned. */
export type After =
  /** Resume the generation on the next attempt (after the usual retry decision). */
  | "resume"
  /** The resume was refused or has expired: continue at once by a continuation request. */
  | "refused"
  /** Nothing to resume: recover as usual. */
  | "none"

export interface Tracker {
  /** The leg of a streamed attempt on `target`: resumed when a point for it is held, else `fresh`. */
  readonly leg: (
    target: Target,
    request: ChatRequest,
    fresh: () => Continuation.Reading
  ) => Effect.Effect<Leg>
  /** Keeps or drops the point after a failed attempt. */
  readonly after: (error: ChatError) => Effect.Effect<After>
  /** Drops the point, cancelling its generation (best effort, in the background). */
  readonly abandon: Effect.Effect<void>
}

/** Failures of the connection, not of the generation: the generation may still be running. */
const breaks = (error: ChatError): boolean =>
  error._tag === "StreamTruncated" ||
  error._tag === "ConnectionFailed" ||
  (error._tag === "Timeout" && error.phase !== "total") ||
  (error.isRetryable && error.status !== undefined && error._tag !== "ContinuationRejected")

/** A resume the target will not serve: not resumable (400) or no longer stored (404). */
const refuses = (error: ChatError): boolean => error._tag === "NotFound" || error._tag === "InvalidRequest"

/**
 * Cancels the generation at `point` in a detached fiber bounded by
 * {@link cancelTimeout}: never fails, never waits.
 */
const cancel = (point: Point): Effect.Effect<void> => {
  const resumable = point.target.service.resumable
  if (resumable === undefined) return Effect.void
  return resumable
    .cancel(point.cursor)
    .pipe(
      Effect.timeout(cancelTimeout),
      Effect.ignore,
      Effect.forkDetach({ startImmediately: true }),
      Effect.asVoid
    )
}

/** A tracker for one call. */
export const make = (): Tracker => {
  let point: Point | undefined
  let resumed = false
  const abandon = Effect.suspend(() => {
    const held = point
    point = undefined
    return held === undefined ? Effect.void : cancel(held)
  })
  return {
    abandon,
    leg: (target, request, fresh) =>
      Effect.suspend(() => {
        const held = point
        const resumable = target.service.resumable
        resumed = held !== undefined && resumable !== undefined && sameTarget(held.target, target)
        const origin = resumed && held !== undefined ? held.request : request
        let last = resumed ? held?.cursor : undefined
        const record = (reading: Continuation.Reading, finished: boolean) => {
          const cursor = reading.cursor
          if (finished) point = undefined
          else if (cursor !== undefined && cursor !== last) {
            point = { target, request: origin, cursor, reading, exact: true }
          } else if (point !== undefined) point = { ...point, exact: false }
          last = cursor
        }
        if (!resumed || held === undefined || resumable === undefined) {
          return Effect.as(abandon, { events: target.service.stream(request), reading: fresh(), record })
        }
        const reading: Continuation.Reading = held.reading.verifying
          ? held.reading
          : { ...held.reading, kind: { _tag: "Resumed" } }
        return Effect.succeed({ events: resumable.resume(held.cursor, origin), reading, record })
      }),
    after: (error) =>
      Effect.suspend(() => {
        if (point === undefined) return Effect.succeed("none" as const)
        if (resumed && refuses(error)) {
          point = undefined
          return Effect.succeed("refused" as const)
        }
        return point.exact && breaks(error)
          ? Effect.succeed("resume" as const)
          : Effect.as(abandon, "none" as const)
      })
  }
}

const noRecord = () => {}

/** The tracker of a call none of whose targets can resume: every leg is a fresh stream, nothing is held. */
const untracked: Tracker = {
  abandon: Effect.void,
  leg: (target, request, fresh) =>
    Effect.sync(() => ({ events: target.service.stream(request), reading: fresh(), record: noRecord })),
  after: () => Effect.succeed("none")
}

/**
 * The tracker of one call. A chain that cannot resume (`resumable` false)
 * gets one that holds nothing; otherwise the call must run `abandon` however
 * it ends (a generation still held is then cancelled).
 */
export const forCall = (resumable: boolean): Tracker => (resumable ? make() : untracked)
