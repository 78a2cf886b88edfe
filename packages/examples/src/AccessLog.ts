/**
 * The backend example's access log: one JSON line per request, written when
 * the response is over (for an answer stream, when the stream ends), with
 * the method, path, status, duration, outcome and request id.
 *
 * ```json
 * {"time":"2025-01-01T12:00:00.000Z","requestId":"4f1c…","method":"POST","path":"/api/chat","status":200,"durationMs":2412,"outcome":"answered"}
 * ```
 *
 * Every response carries its id in `x-request-id` (a well-formed incoming
 * `x-request-id` is kept), so a user's report can be matched to its line.
 */
import { randomUUID } from "node:crypto"
import type * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { HttpEffect, HttpServerError, HttpServerRequest, HttpServerResponse } from "effect/http"

/**
 * How a request ended, when the handler knows better than its status:
 * `answered`, `failed` (with the `ChatError` tag in `error`), `shutdown`.
 * Otherwise the log says `ok` (< 400), `rejected` (4xx), `error` (5xx) or
 * `client-closed` (the client went away first; status 499 if nothing was sent).
 */
export interface Outcome {
  readonly outcome: string
  readonly error?: string
}

/** One line of the log. */
export interface Entry extends Outcome {
  readonly time: string
  readonly requestId: string
  readonly method: string
  readonly path: string
  readonly status: number
  readonly durationMs: number
}

/**
 * Where a handler records its request's {@link Outcome}; a no-op outside a
 * logged request.
 */
export const Recorder = Context.Reference<(outcome: Outcome) => void>(
  "@steadystream/examples/AccessLog/Recorder",
  { defaultValue: () => () => {} }
)

/** Records the current request's outcome (see {@link Recorder}). */
export const record = (outcome: Outcome): Effect.Effect<void> =>
  Effect.gen(function* () {
    const recorder = yield* Recorder
    recorder(outcome)
  })

const wellFormedId = /^[\w.:-]{1,128}$/

const clientClosed = (cause: Cause.Cause<unknown>) =>
  cause.reasons.some(
    (reason) => reason._tag === "Interrupt" && reason.annotations.has(HttpServerError.ClientAbort.key)
  )

const statusOutcome = (status: number): string => (status < 400 ? "ok" : status < 500 ? "rejected" : "error")

/**
 * A server middleware writing one {@link Entry} per request, as JSON, to `write`.
 *
 * **Gotchas**
 *
 * The status is the one sent (captured just before the response is
 * written), so an answer stream that later fails is still a 200 with
 * outcome `failed`.
 */
export const middleware =
  (write: (line: string) => void) =>
  <E, R>(
    app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
  ): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest> =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const startedAt = yield* Clock.currentTimeMillis
      const incoming = request.headers["x-request-id"]
      const requestId = incoming !== undefined && wellFormedId.test(incoming) ? incoming : randomUUID()
      let status: number | undefined
      let recorded: Outcome | undefined
      yield* HttpEffect.appendPreResponseHandler((_request, response) =>
        Effect.sync(() => {
          status = response.status
          return HttpServerResponse.setHeader(response, "x-request-id", requestId)
        })
      )
      return yield* app.pipe(
        Effect.provideService(Recorder, (outcome) => {
          recorded = outcome
        }),
        Effect.onExit((exit) =>
          Effect.map(Clock.currentTimeMillis, (now) => {
            const gone = Exit.isFailure(exit) && clientClosed(exit.cause)
            const sent = status ?? (gone ? 499 : 500)
            const outcome: Outcome = gone
              ? { outcome: "client-closed" }
              : (recorded ?? { outcome: statusOutcome(sent) })
            const entry: Entry = {
              time: new Date(now).toISOString(),
              requestId,
              method: request.method,
              path: request.url.split("?")[0] ?? request.url,
              status: sent,
              durationMs: now - startedAt,
              ...outcome
            }
            write(JSON.stringify(entry))
          })
        )
      )
    })
