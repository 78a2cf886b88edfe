/**
 * The Effect backend example: an HTTP server that re-streams a
 * `ResilientChat` answer to the browser as server-sent events, serves the
 * page that shows it, and exposes the library's metrics for Prometheus.
 *
 * - `GET /`: the page (self-contained HTML, no build step).
 * - `POST /api/chat`: `{ "prompt": "…" }` or `{ "messages": [{ "role", "content" }…] }` →
 *   `text/event-stream`, one frame per event (see {@link frames}). A bad body is a 400 naming the
 *   field (see `ChatBody.ts`), a body over the limit a 413, another method a 405.
 * - `GET /metrics`: Prometheus text (`steadystream_requests_total`, …).
 */
import * as Http from "node:http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { ChatError, ResilientChat, StreamEvent } from "@steadystream/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { HttpRouter, type HttpServer, type HttpServerError, HttpServerResponse } from "effect/http"
import * as Layer from "effect/Layer"
import { PrometheusMetrics } from "effect/observability"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as ChatBody from "./ChatBody.ts"
import * as Page from "./Page.ts"
import * as Progress from "./Progress.ts"

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
}

/** The default body limit: 1 MiB, room for a long conversation, far below a memory problem. */
export const defaultMaxBodyBytes = 1024 * 1024

const encodeEvent = Schema.encodeSync(StreamEvent.StreamEvent)

const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`

/**
 * The SSE frames of one answer.
 *
 * **Details**
 *
 * Every `StreamEvent` becomes a frame named by its `type`, with the event
 * encoded as JSON (`retrying.delay` in milliseconds, errors encoded with
 * `ChatError.encode`). Recovery frames (`retrying`, `fallback`) also carry
 * `status`, the message people read ("rate limited, retrying in 1.0 s
 * (attempt 2/5)"). The stream ends with a `summary` frame (`{ summary }`),
 * after an `error` frame (`{ error, message }`) when the call failed.
 */
export const frames = (
  events: Stream.Stream<StreamEvent.StreamEvent, ChatError.ChatError>,
  maxAttempts: number
): Stream.Stream<string> =>
  Stream.unwrap(
    Effect.gen(function* () {
      let progress = Progress.start(yield* Clock.currentTimeMillis)
      const closing = (failure?: ChatError.ChatError) =>
        Stream.fromEffect(
          Effect.map(Clock.currentTimeMillis, (now) => {
            const summary = frame("summary", { summary: Progress.summary(progress, now, failure) })
            return failure === undefined
              ? summary
              : frame("error", {
                  error: ChatError.encode(failure),
                  message: Progress.describe(failure)
                }) + summary
          })
        )
      const content = events.pipe(
        Stream.mapEffect((event) =>
          Effect.map(Clock.currentTimeMillis, (now) => {
            const status = Progress.status(progress, event, maxAttempts)
            progress = Progress.update(progress, event, now)
            const data = encodeEvent(event)
            return frame(event.type, status === undefined ? data : { ...data, status })
          })
        )
      )
      return content.pipe(
        Stream.concat(Stream.suspend(() => closing())),
        Stream.catch((error) => closing(error))
      )
    })
  )

const methodNotAllowed = (allowed: string) =>
  HttpServerResponse.jsonUnsafe(
    { error: { message: `Method not allowed: use ${allowed}`, type: "invalid_request_error" } },
    { status: 405, headers: { allow: allowed } }
  )

/** The routes, given the `ResilientChat` to use. */
export const routes = (
  options: Options
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
      yield* router.add("POST", "/api/chat", (request) =>
        Effect.gen(function* () {
          const body = yield* ChatBody.read(request, limit)
          const messages = yield* ChatBody.decode(body, options.model)
          const events = chat.stream({ model: options.model, messages })
          return HttpServerResponse.stream(Stream.encodeText(frames(events, options.maxAttempts)), {
            contentType: "text/event-stream",
            headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
          })
        }).pipe(Effect.catchTag("Rejected", (rejected) => Effect.succeed(ChatBody.toResponse(rejected))))
      )
      for (const method of ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"] as const) {
        yield* router.add(method, "/api/chat", methodNotAllowed("POST"))
      }
    })
  ).pipe(Layer.provideMerge(PrometheusMetrics.layerHttp({ path: "/metrics" })))

/**
 * The whole server on Node, listening on `port` (0 picks a free one) at
 * `host` (default 127.0.0.1).
 */
export const layer = (
  options: Options & { readonly port: number; readonly host?: string }
): Layer.Layer<HttpServer.HttpServer, HttpServerError.ServeError, ResilientChat.ResilientChat> =>
  HttpRouter.serve(routes(options), { disableLogger: true, disableListenLog: true }).pipe(
    Layer.provideMerge(
      NodeHttpServer.layer(() => Http.createServer(), {
        port: options.port,
        host: options.host ?? "127.0.0.1"
      })
    )
  )
