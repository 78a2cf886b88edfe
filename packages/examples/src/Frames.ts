/**
 * The server-sent events of one answer, as the backend example sends them to
 * the browser: one frame per `StreamEvent`, recovery frames with the status
 * people read, and a closing `summary` frame.
 */
import { ChatError, StreamEvent } from "@steadystream/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Progress from "./Progress.ts"

const encodeEvent = Schema.encodeSync(StreamEvent.StreamEvent)

/** One SSE frame: its event name and its data (JSON text). */
export interface Frame {
  readonly event: string
  readonly data: string
}

const frame = (event: string, data: unknown): Frame => ({ event, data: JSON.stringify(data) })

/** A frame as SSE text, with the `id:` a reconnecting client sends back as `Last-Event-ID`. */
export const format = (frame: Frame, id?: string): string =>
  `${id === undefined ? "" : `id: ${id}\n`}event: ${frame.event}\ndata: ${frame.data}\n\n`

/** Why the stream was cut short when `stop` completes. */
const shutdown: Progress.Stopped = { _tag: "Stopped", why: "server shutting down" }

/** What one answer's frames need besides its events. */
export interface Options {
  /** Attempts the policy allows in all, shown as "attempt n/max". */
  readonly maxAttempts: number
  /**
   * Completes when the server shuts down: the answer (and its upstream call)
   * is interrupted and the stream ends with an `error` frame saying so.
   * Default: never.
   */
  readonly stop?: Effect.Effect<void>
}

/**
 * The SSE frames of one answer, as data.
 *
 * **Details**
 *
 * Every `StreamEvent` becomes a frame named by its `type`, with the event
 * encoded as JSON (`retrying.delay` in milliseconds, errors encoded with
 * `ChatError.encode`). Recovery frames (`retrying`, `fallback`) also carry
 * `status`, the message people read ("rate limited, retrying in 1.0 s
 * (attempt 2/5)"). The stream ends with a `summary` frame (`{ summary }`),
 * after an `error` frame when the call failed (`{ error, message }`) or the
 * server shut down (`{ stopped: "shutdown", message }`, no `error`).
 */
export const entries = (
  events: Stream.Stream<StreamEvent.StreamEvent, ChatError.ChatError>,
  options: Options
): Stream.Stream<Frame> =>
  Stream.unwrap(
    Effect.gen(function* () {
      let progress = Progress.start(yield* Clock.currentTimeMillis)
      const closing = (failure?: ChatError.ChatError | Progress.Stopped) =>
        Stream.fromIterableEffect(
          Effect.map(Clock.currentTimeMillis, (now) => {
            const summary = frame("summary", { summary: Progress.summary(progress, now, failure) })
            if (failure === undefined) return [summary]
            if (failure._tag === "Stopped") {
              const message = `the server is shutting down: the answer stopped after ${progress.chars} chars; ask again once it is back`
              return [frame("error", { stopped: "shutdown", message }), summary]
            }
            return [
              frame("error", { error: ChatError.encode(failure), message: Progress.describe(failure) }),
              summary
            ]
          })
        )
      const content = events.pipe(
        Stream.mapEffect((event) =>
          Effect.map(Clock.currentTimeMillis, (now) => {
            const status = Progress.status(progress, event, options.maxAttempts)
            progress = Progress.update(progress, event, now)
            const data = encodeEvent(event)
            return frame(event.type, status === undefined ? data : { ...data, status })
          })
        ),
        Stream.interruptWhen(Effect.andThen(options.stop ?? Effect.never, Effect.fail(shutdown)))
      )
      return content.pipe(
        Stream.concat(Stream.suspend(() => closing())),
        Stream.catch((failure) => closing(failure))
      )
    })
  )

/** The frames of one answer as SSE text, without ids (see {@link entries}). */
export const frames = (
  events: Stream.Stream<StreamEvent.StreamEvent, ChatError.ChatError>,
  options: Options
): Stream.Stream<string> => Stream.map(entries(events, options), (frame) => format(frame))
