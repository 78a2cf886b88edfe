/**
 * One incoming HTTP request, read whole: method, path, headers and the body
 * (raw and parsed as JSON).
 *
 * Part of `FakeOpenAiServer`; not re-exported from `/testing`.
 *
 * @since 0.1.0
 */
import type * as Http from "node:http"
import * as Effect from "effect/Effect"

/**
 * A request as the server sees it once its body has arrived.
 *
 * @since 0.1.0
 */
export interface Request {
  readonly method: string
  /** The path without the query string, e.g. `/v1/chat/completions`. */
  readonly path: string
  /** The query string's parameters, e.g. `{ stream: "true", starting_after: "3" }`. @since 0.2.0 */
  readonly query: Readonly<Record<string, string>>
  /** Lower-cased header names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>
  /** The parsed JSON body (`undefined` when there was none or it was not JSON). */
  readonly body: unknown
}

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
 * Reads a request's body to its end (a broken upload yields what arrived).
 *
 * @since 0.1.0
 */
export const read = (req: Http.IncomingMessage): Effect.Effect<Request> =>
  Effect.map(readBody(req), (raw) => ({
    method: req.method ?? "GET",
    path: (req.url ?? "/").split("?")[0] ?? "/",
    query: Object.fromEntries(new URL(req.url ?? "/", "http://fake").searchParams),
    headers: headersOf(req),
    body: parseJson(raw)
  }))

/**
 * The bearer token of `Authorization` (empty when there is none).
 *
 * @since 0.1.0
 */
export const bearer = (request: Request): string =>
  (request.headers.authorization ?? "").replace(/^Bearer\s+/i, "")
