/**
 * The fake server's record of the requests it received and what became of
 * each, for tests to inspect.
 *
 * Part of `FakeOpenAiServer`, which re-exports `RecordedRequest`.
 *
 * @since 0.1.0
 */
import type * as Http from "node:http"
import * as Effect from "effect/Effect"
import type * as Incoming from "./Incoming.ts"
import type * as Respond from "./Respond.ts"
import type * as Step from "./Step.ts"

/**
 * One request the server received, and what became of it.
 *
 * @since 0.1.0
 */
export interface RecordedRequest {
  /** 0-based, over all requests. */
  readonly index: number
  readonly method: string
  /** The path without the query string, e.g. `/v1/chat/completions`. */
  readonly path: string
  /** The query string's parameters. @since 0.2.0 */
  readonly query: Readonly<Record<string, string>>
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>
  /** The parsed JSON body (`undefined` when there was none or it was not JSON). */
  readonly body: unknown
  /** The `x-request-id` the server answered with. */
  readonly requestId: string
  /** For chat completions: the 0-based call index, i.e. which step answered it. */
  readonly call: number | undefined
  /** The tag of the step that answered (`"Unauthorized"` when the key check failed). */
  readonly outcome: Step.Step["_tag"] | "Unauthorized" | "Models" | "NotFound" | "BadRequest" | undefined
  /** The assistant prefix, when the request was answered as a continuation. */
  readonly continuedFrom: string | undefined
  /** The client closed the connection before the server finished (cancellation). */
  readonly clientClosedEarly: boolean
  /** The server finished its response normally. */
  readonly finished: boolean
  /** How many `: keep-alive` comments a stalled answer has sent. */
  readonly keepAlives: number
}

/**
 * A record being written while its request is answered.
 *
 * @since 0.1.0
 */
export type Entry = { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] }

/**
 * Where records go.
 *
 * @since 0.1.0
 */
export interface Recorder {
  /** Opens the record of a request, numbering it and its request id. */
  readonly open: (request: Incoming.Request) => Entry
  /** The records so far, oldest first (a snapshot). */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
}

/**
 * How many records to keep: `false` keeps none, `{ limit }` the last
 * `limit` requests.
 *
 * @since 0.1.0
 */
export type Options = false | { readonly limit: number }

/**
 * The default record: the last 20 requests.
 *
 * @since 0.1.0
 */
export const defaultOptions: Options = { limit: 20 }

/**
 * A recorder that keeps the last `limit` records (none with `false`).
 *
 * **Gotchas**
 *
 * A record holds the request's headers and parsed body: keeping every
 * request of a long-running server grows its memory without bound, so the
 * record is a window. Records that fall out of it are gone, but `index` and
 * the request ids keep counting every request.
 *
 * @since 0.1.0
 */
export const make = (options: Options = defaultOptions): Recorder => {
  const limit = options === false || Number.isNaN(options.limit) ? 0 : Math.max(0, Math.floor(options.limit))
  const entries: Array<Entry> = []
  let seen = 0
  return {
    open: (request) => {
      const index = seen++
      const entry: Entry = {
        index,
        method: request.method,
        path: request.path,
        query: request.query,
        headers: request.headers,
        body: request.body,
        requestId: `req_fake_${String(index + 1).padStart(6, "0")}`,
        call: undefined,
        outcome: undefined,
        continuedFrom: undefined,
        clientClosedEarly: false,
        finished: false,
        keepAlives: 0
      }
      if (limit > 0) {
        entries.push(entry)
        if (entries.length > limit) entries.shift()
      }
      return entry
    },
    requests: Effect.sync(() => entries.map((entry) => ({ ...entry })))
  }
}

/**
 * Keeps `entry` up to date as `res` goes, and gives the response its hooks
 * into it: a connection the server did not close itself, closed before the
 * response finished, is the client's early close.
 *
 * @since 0.1.0
 */
export const track = (entry: Entry, res: Http.ServerResponse): Respond.Hooks => {
  let serverClosed = false
  res.on("close", () => {
    entry.finished = res.writableFinished
    if (!res.writableFinished && !serverClosed) entry.clientClosedEarly = true
  })
  return {
    serverClosed: () => {
      serverClosed = true
    },
    keepAlive: () => {
      entry.keepAlives++
    },
    continued: (prefix) => {
      entry.continuedFrom = prefix
    }
  }
}
