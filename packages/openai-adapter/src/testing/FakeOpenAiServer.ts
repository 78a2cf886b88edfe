/**
 * A real HTTP server on 127.0.0.1 that speaks the OpenAI wire protocol well
 * enough that the official `openai` SDK cannot tell it from the real API,
 * with scripted faults per call: error statuses with `Retry-After`, resets
 * before headers and mid-body, clean closes without `[DONE]`, stalls with
 * keep-alive comments, in-band error frames, malformed JSON, slow drips and
 * multi-byte characters split across TCP writes.
 *
 * @since 0.1.0
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as FakeAnswer from "../internal/fakeAnswer.ts"
import * as Respond from "../internal/fakeRespond.ts"
import * as Wire from "../internal/fakeWire.ts"
import * as FakeScenario from "./FakeScenario.ts"

/**
 * Server options: the scenario (`steps`, `fallback`, `text`) plus where to
 * listen and what to check.
 *
 * @since 0.1.0
 */
export interface Options extends Partial<FakeScenario.Scenario> {
  /** When set, every request must carry `Authorization: Bearer <apiKey>` or gets a 401. */
  readonly apiKey?: string
  /** Default 0 (any free port). */
  readonly port?: number
  /** Default `"127.0.0.1"`. */
  readonly host?: string
  /** The model name reported in answers and `/v1/models`. Default `"gpt-fake"`. */
  readonly model?: string
  /** Default interval of `: keep-alive` comments while stalled. Default 1 second. */
  readonly keepAlive?: Duration.Input
}

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
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>
  /** The parsed JSON body (`undefined` when there was none or it was not JSON). */
  readonly body: unknown
  /** The `x-request-id` the server answered with. */
  readonly requestId: string
  /** For chat completions: the 0-based call index, i.e. which step answered it. */
  readonly call: number | undefined
  /** The tag of the step that answered (`"Unauthorized"` when the key check failed). */
  readonly outcome:
    | FakeScenario.Step["_tag"]
    | "Unauthorized"
    | "Models"
    | "NotFound"
    | "BadRequest"
    | undefined
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
 * A running server.
 *
 * @since 0.1.0
 */
export interface Service {
  /** The base URL, ending in `/v1`: pass it as the SDK's `baseURL`. */
  readonly url: string
  readonly port: number
  /** Every request so far, in arrival order (a snapshot). */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  /** How many TCP connections are open right now. */
  readonly openConnections: Effect.Effect<number>
  /** Waits until exactly `count` connections are open (wrap it in a timeout). */
  readonly awaitOpenConnections: (count: number) => Effect.Effect<void>
}

/**
 * The service key, for tests that share one server through a layer.
 *
 * @since 0.1.0
 */
export class FakeOpenAiServer extends Context.Service<FakeOpenAiServer, Service>()(
  "@steadystream/openai-adapter/testing/FakeOpenAiServer"
) {}

type MutableRecord = { -readonly [K in keyof RecordedRequest]: RecordedRequest[K] }

const readBody = (req: Http.IncomingMessage): Effect.Effect<string> =>
  Effect.callback<string>((resume) => {
    const parts: Array<Buffer> = []
    req.on("data", (part: Buffer) => parts.push(part))
    req.on("end", () => resume(Effect.succeed(Buffer.concat(parts).toString("utf8"))))
    req.on("error", () => resume(Effect.succeed(Buffer.concat(parts).toString("utf8"))))
  })

const parseJson = (raw: string): unknown => {
  if (raw.length === 0) return undefined
  try {
    return JSON.parse(raw)
  } catch {
    return undefined
  }
}

const headersOf = (req: Http.IncomingMessage): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value
  }
  return out
}

/**
 * Starts a server; it stops (closing every connection) when the scope closes.
 *
 * **Example**
 *
 * ```ts
 * const server = yield* FakeOpenAiServer.make({
 *   apiKey: "sk-test",
 *   steps: [FakeScenario.rateLimited(FakeScenario.retryAfterSeconds(2)), FakeScenario.resetAfter(3)]
 * })
 * const client = new OpenAI({ apiKey: "sk-test", baseURL: server.url, maxRetries: 0 })
 * ```
 *
 * **Gotchas**
 *
 * - Calls consume `steps` in arrival order; `/v1/models` and requests
 *   rejected by the key check do not consume a step.
 * - A continuation request (an assistant message last, or before a trailing
 *   instruction, whose text is a prefix of the answer) gets exactly the
 *   remainder, plus the step's scripted `overlap`.
 * - Waits use real timers, not the Effect `Clock`: under `TestClock` the
 *   server still runs in real time.
 *
 * @since 0.1.0
 */
export const make = Effect.fnUntraced(function* (options: Options = {}) {
  const steps = options.steps ?? []
  const fallback = options.fallback ?? FakeScenario.answer()
  const text = options.text ?? FakeScenario.defaultText
  const model = options.model ?? "gpt-fake"
  const keepAlive = options.keepAlive ?? "1 second"
  const records: Array<MutableRecord> = []
  let calls = 0
  let open = 0
  const waiters = new Set<() => void>()
  const notify = () => {
    for (const waiter of waiters) waiter()
  }

  const runFork = yield* FiberSet.makeRuntime<never>()

  const handle = Effect.fnUntraced(function* (req: Http.IncomingMessage, res: Http.ServerResponse) {
    const raw = yield* readBody(req)
    const path = (req.url ?? "/").split("?")[0] ?? "/"
    const record: MutableRecord = {
      index: records.length,
      method: req.method ?? "GET",
      path,
      headers: headersOf(req),
      body: parseJson(raw),
      requestId: `req_fake_${String(records.length + 1).padStart(6, "0")}`,
      call: undefined,
      outcome: undefined,
      continuedFrom: undefined,
      clientClosedEarly: false,
      finished: false,
      keepAlives: 0
    }
    records.push(record)
    let serverClosed = false
    res.on("close", () => {
      record.finished = res.writableFinished
      if (!res.writableFinished && !serverClosed) record.clientClosedEarly = true
    })
    res.setHeader("x-request-id", record.requestId)
    res.setHeader("openai-version", "2020-10-01")

    const sentKey = (record.headers.authorization ?? "").replace(/^Bearer\s+/i, "")
    if (options.apiKey !== undefined && sentKey !== options.apiKey) {
      record.outcome = "Unauthorized"
      return yield* Respond.respondError(res, FakeScenario.unauthorized, sentKey)
    }
    if (record.method === "GET" && path === "/v1/models") {
      record.outcome = "Models"
      return yield* Wire.sendJson(res, 200, {
        object: "list",
        data: [{ id: model, object: "model", created: 1_700_000_000, owned_by: "steadystream" }]
      })
    }
    if (record.method !== "POST" || path !== "/v1/chat/completions") {
      record.outcome = "NotFound"
      return yield* Wire.sendJson(
        res,
        404,
        Wire.errorBody(
          { message: `Invalid URL (${record.method} ${path})`, type: "invalid_request_error" },
          sentKey
        )
      )
    }
    const body = record.body as { stream?: unknown; stream_options?: { include_usage?: unknown } } | undefined
    if (typeof body !== "object" || body === null) {
      record.outcome = "BadRequest"
      return yield* Wire.sendJson(
        res,
        400,
        Wire.errorBody(
          { message: "We could not parse the JSON body of your request.", type: "invalid_request_error" },
          sentKey
        )
      )
    }
    const call = calls++
    const step = steps[call] ?? fallback
    record.call = call
    record.outcome = step._tag
    switch (step._tag) {
      case "ResetBeforeHeaders": {
        serverClosed = true
        req.socket.resetAndDestroy()
        return
      }
      case "HttpError":
        return yield* Respond.respondError(res, step, sentKey)
      case "Answer": {
        const plan = FakeAnswer.plan(body, step, text)
        record.continuedFrom = plan.continuedFrom
        const base: Wire.ChunkBase = {
          id: `chatcmpl-fake-${call + 1}`,
          created: Math.floor(Date.now() / 1000),
          model,
          includeUsage: body.stream_options?.include_usage === true
        }
        const hooks: Respond.Hooks = {
          serverClosed: () => {
            serverClosed = true
          },
          keepAlive: () => {
            record.keepAlives++
          }
        }
        return yield* body.stream === true
          ? Respond.streamAnswer(res, base, plan, step, keepAlive, hooks)
          : Respond.completeAnswer(res, base, plan, step, hooks)
      }
    }
  })

  const awaitOpenConnections = (count: number): Effect.Effect<void> =>
    Effect.callback<void>((resume) => {
      const check = () => {
        if (open === count) {
          waiters.delete(check)
          resume(Effect.void)
        }
      }
      waiters.add(check)
      check()
      return Effect.sync(() => waiters.delete(check))
    })

  const server = yield* Effect.acquireRelease(
    Effect.callback<Http.Server>((resume) => {
      const server = Http.createServer({ noDelay: true }, (req, res) => {
        const fiber = runFork(handle(req, res))
        res.on("close", () => fiber.interruptUnsafe())
      })
      server.on("connection", (socket) => {
        open++
        notify()
        // Deferred so that the response's own "close" (which records a
        // client's early close) has run when a waiter wakes up.
        socket.on("close", () =>
          setImmediate(() => {
            open--
            notify()
          })
        )
      })
      server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.callback<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      }).pipe(Effect.andThen(awaitOpenConnections(0)))
  )
  const address = server.address() as AddressInfo
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address

  return FakeOpenAiServer.of({
    url: `http://${host}:${address.port}/v1`,
    port: address.port,
    requests: Effect.sync(() => records.map((record) => ({ ...record }))),
    openConnections: Effect.sync(() => open),
    awaitOpenConnections
  })
})

/**
 * A layer running one server for every test that shares it.
 *
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<FakeOpenAiServer> =>
  Layer.effect(FakeOpenAiServer, make(options))
