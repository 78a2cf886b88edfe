/**
 * The Effect backend example: an HTTP server that re-streams a
 * `ResilientChat` answer to the browser as server-sent events, serves the
 * page that shows it, and exposes the library's metrics for Prometheus.
 *
 * - `GET /`: the page (self-contained HTML, no build step); `GET /favicon.ico` its icon.
 * - `POST /api/chat`: `{ "prompt": "…" }` or `{ "messages": [{ "role", "content" }…] }` →
 *   `text/event-stream`, one frame per event (see `Frames.ts`). A bad body is a 400 naming the
 *   field (see `ChatBody.ts`), a body over the limit a 413, another method a 405.
 * - `GET /metrics`: Prometheus text (`steadystream_requests_total`, …).
 * - Every answer has an id (the `x-answer-id` header) and every frame an SSE
 *   `id:`; `GET /api/answers/:id/events` with `Last-Event-ID` resumes it from
 *   there, on any instance sharing the store, and `DELETE /api/answers/:id`
 *   cancels it (see `Answers.ts`).
 *
 * An answer runs on its own: a client that goes away can come back for it;
 * one that cancels it (the page's Stop button) or stays away for the store's
 * orphan timeout stops it and its upstream call. When the server shuts down,
 * every open answer ends at once with an `error` frame saying so, unless
 * other instances share the store: then they take the answers over (the
 * clients resume there).
 */
import * as Http from "node:http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { ResilientChat } from "@steadystream/core"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import { HttpRouter, type HttpServer, type HttpServerError, HttpServerResponse } from "effect/http"
import * as Layer from "effect/Layer"
import { PrometheusMetrics } from "effect/observability"
import * as Stream from "effect/Stream"
import * as AccessLog from "./AccessLog.ts"
import * as AnswerStore from "./AnswerStore.ts"
import * as Answers from "./Answers.ts"
import * as ChatBody from "./ChatBody.ts"
import * as Favicon from "./Favicon.ts"
import * as Frames from "./Frames.ts"
import * as Page from "./Page.ts"

/** What the server needs to know besides the `ResilientChat` it uses. */
export interface Options {
  /** The model every request asks for. */
  readonly model: string
  /** Attempts the policy allows in all, shown as "attempt n/max". */
  readonly maxAttempts: number
  /** Where answers come from, shown on the page. */
  readonly source: string
  /** The largest `POST /api/chat` body accepted, in bytes. Default {@link defaultMaxBodyBytes}. */
  readonly maxBodyBytes?: number
  /** Receives one access-log line per request (see `AccessLog.ts`). Default: no log. */
  readonly accessLog?: (line: string) => void
  /** Where answers are kept (`RedisAnswerStore` for a fleet). Default: this process's memory. */
  readonly store?: AnswerStore.AnswerStore
}

/** The default body limit: 1 MiB, room for a long conversation, far below a memory problem. */
export const defaultMaxBodyBytes = 1024 * 1024

/** How long shutdown waits for responses still being written after open answers were told to end. */
const gracefulShutdownTimeout = "1500 millis"

/** An answer's frames as an SSE response, each with its `id:`. */
const sse = (id: string, entries: Stream.Stream<AnswerStore.Entry, unknown>) =>
  HttpServerResponse.stream(
    Stream.encodeText(
      entries.pipe(
        Stream.map((entry) => Frames.format(entry, entry.id)),
        // The store failed mid-answer: end here; the client resumes from its last id.
        Stream.catchCause(() => Stream.empty)
      )
    ),
    {
      contentType: "text/event-stream",
      // One answer per connection: when it ends, the connection closes, so shutdown never waits
      // for an idle keep-alive socket.
      headers: {
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
        connection: "close",
        "x-answer-id": id
      }
    }
  )

const unavailable = HttpServerResponse.jsonUnsafe(
  { error: { message: "The answer store is unavailable; try again", type: "unavailable" } },
  { status: 503 }
)

const methodNotAllowed = (allowed: string) =>
  HttpServerResponse.jsonUnsafe(
    { error: { message: `Method not allowed: use ${allowed}`, type: "invalid_request_error" } },
    { status: 405, headers: { allow: allowed } }
  )

/**
 * The routes, given the `ResilientChat` to use. `stop` completes when the
 * server shuts down (see `Frames.Options.stop`).
 */
export const routes = (
  options: Options,
  stop: Effect.Effect<void> = Effect.never
): Layer.Layer<never, never, HttpRouter.HttpRouter | ResilientChat.ResilientChat> =>
  HttpRouter.use((router) =>
    Effect.gen(function* () {
      const chat = yield* ResilientChat.ResilientChat
      const limit = options.maxBodyBytes ?? defaultMaxBodyBytes
      yield* router.add(
        "GET",
        "/",
        HttpServerResponse.html(Page.html({ source: options.source, model: options.model }))
      )
      yield* router.add("GET", "/favicon.ico", Favicon.response)
      const store = options.store ?? (yield* AnswerStore.memory())
      const answers = yield* Answers.make({
        store,
        produce: (request, delivered) => {
          const { messages } = JSON.parse(request) as { messages: ChatBody.Messages }
          const events = chat.stream({ model: options.model, messages }, { delivered }).pipe(
            Stream.tapError((error) => AccessLog.record({ outcome: "failed", error: error._tag })),
            Stream.onEnd(AccessLog.record({ outcome: "answered" }))
          )
          return Frames.entries(events, {
            maxAttempts: options.maxAttempts,
            // Alone, shutting down ends the answer; in a fleet, the answer is handed over instead.
            stop: store.shared
              ? Effect.never
              : Effect.andThen(stop, AccessLog.record({ outcome: "shutdown" }))
          })
        },
        ...(store.shared ? { handOver: stop } : {})
      })
      yield* router.add("POST", "/api/chat", (request) =>
        Effect.gen(function* () {
          const body = yield* ChatBody.read(request, limit)
          const messages = yield* ChatBody.decode(body, options.model)
          const id = yield* answers.start(JSON.stringify({ messages }))
          return sse(id, answers.follow(id))
        }).pipe(
          Effect.catchTag("Rejected", (rejected) => Effect.succeed(ChatBody.toResponse(rejected))),
          Effect.catchTag("StoreError", () => Effect.succeed(unavailable))
        )
      )
      yield* router.add("GET", "/api/answers/:id/events", (request) =>
        Effect.gen(function* () {
          const id = (yield* HttpRouter.params).id ?? ""
          if ((yield* store.request(id)) === undefined) {
            return HttpServerResponse.jsonUnsafe(
              { error: { message: `No answer ${id} (unknown or expired)`, type: "not_found" } },
              { status: 404 }
            )
          }
          const cursor = request.headers["last-event-id"]
          if (cursor !== undefined && !/^\d+(-\d+)?$/.test(cursor)) {
            return HttpServerResponse.jsonUnsafe(
              {
                error: {
                  message: `Last-Event-ID ${JSON.stringify(cursor)} is not a frame id`,
                  type: "invalid_request_error"
                }
              },
              { status: 400 }
            )
          }
          return sse(id, answers.follow(id, cursor))
        }).pipe(Effect.catchTag("StoreError", () => Effect.succeed(unavailable)))
      )
      yield* router.add("DELETE", "/api/answers/:id", () =>
        Effect.gen(function* () {
          yield* answers.cancel((yield* HttpRouter.params).id ?? "")
          return HttpServerResponse.empty({ status: 204 })
        }).pipe(Effect.catchTag("StoreError", () => Effect.succeed(unavailable)))
      )
      for (const method of ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"] as const) {
        yield* router.add(method, "/api/chat", methodNotAllowed("POST"))
      }
    })
  ).pipe(Layer.provideMerge(PrometheusMetrics.layerHttp({ path: "/metrics" })))

/**
 * The whole server on Node, listening on `port` (0 picks a free one) at
 * `host` (default 127.0.0.1).
 *
 * **Details**
 *
 * Closing the layer first tells every open answer to end (each gets an
 * `error` frame and its upstream call is interrupted), then closes the
 * server, waiting at most 1.5 s for responses still being written.
 */
export const layer = (
  options: Options & { readonly port: number; readonly host?: string }
): Layer.Layer<HttpServer.HttpServer, HttpServerError.ServeError, ResilientChat.ResilientChat> =>
  Layer.unwrap(
    Effect.map(Deferred.make<void>(), (stopping) => {
      const server = HttpRouter.serve(routes(options, Deferred.await(stopping)), {
        disableLogger: true,
        disableListenLog: true,
        ...(options.accessLog === undefined ? {} : { middleware: AccessLog.middleware(options.accessLog) })
      }).pipe(
        Layer.provideMerge(
          NodeHttpServer.layer(() => Http.createServer(), {
            port: options.port,
            host: options.host ?? "127.0.0.1",
            gracefulShutdownTimeout
          })
        )
      )
      // Built after the server, so released before it: answers end before the server waits for them.
      const stopAnswers = Layer.effectDiscard(
        Effect.addFinalizer(() => Deferred.succeed(stopping, undefined))
      )
      return Layer.provideMerge(stopAnswers, server)
    })
  )
