/**
 * The body of `POST /api/chat`: read within a size limit, parsed as JSON and
 * checked field by field, so a bad request is answered with what is wrong
 * and where (`messages.0.role: Expected "system" | "user" | …`), never with
 * a generic 400 or a call upstream.
 *
 * Accepted: `{ "prompt": "…" }` or `{ "messages": [{ "role", "content", "toolCallId"? }…] }`,
 * exactly one of the two, nothing else.
 */
import { ChatRequest } from "@steadystream/core"
import * as ByteSize from "effect/ByteSize"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { HttpIncomingMessage, type HttpServerRequest, HttpServerResponse } from "effect/http"

/** One thing wrong with a body: where (`["messages", 0, "role"]`, `[]` for the whole body) and what. */
export interface Issue {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

/** A body the server refuses: 400 with the issues, or 413 past the size limit. */
export class Rejected extends Data.TaggedError("Rejected")<{
  readonly status: 400 | 413
  readonly message: string
  readonly issues: ReadonlyArray<Issue>
  /** The size limit in bytes, for a 413. */
  readonly limit?: number
}> {}

/** What a valid body asks for. */
export type Messages = ReadonlyArray<ChatRequest.ChatMessage>

const usage = 'Expected JSON {"prompt": "…"} or {"messages": [{"role": "user", "content": "…"}]}'

const invalid = (issues: ReadonlyArray<Issue>) =>
  new Rejected({
    status: 400,
    message: `${issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`).join("; ")}. ${usage}`,
    issues
  })

const blank = "Expected some text, got an empty or blank prompt"

/** Checks the core's schema does not make: a prompt has text, a tool answer names its call. */
const conversationIssues = (messages: Messages): Array<Issue> =>
  messages.flatMap((message, index): Array<Issue> => {
    if (message.role === "user" && message.content.trim() === "") {
      return [{ path: ["messages", index, "content"], message: blank }]
    }
    if (message.role === "tool" && (message.toolCallId ?? "").trim() === "") {
      return [
        {
          path: ["messages", index, "toolCallId"],
          message: "A tool message needs the toolCallId of the call it answers"
        }
      ]
    }
    return []
  })

/**
 * Checks a parsed body and returns the conversation it asks for.
 *
 * **Details**
 *
 * `messages` are validated with the core's `ChatRequest.validate` (its
 * `InvalidRequest` issue paths become the answer's), plus: a user message or
 * a prompt must hold some non-blank text, a `tool` message needs its
 * `toolCallId`, and unknown top-level fields are refused by name.
 */
export const decode = (body: unknown, model: string): Effect.Effect<Messages, Rejected> => {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return Effect.fail(invalid([{ path: [], message: "Expected a JSON object" }]))
  }
  const fields = body as Record<string, unknown>
  const unknown = Object.keys(fields).filter((key) => key !== "prompt" && key !== "messages")
  if (unknown.length > 0) {
    return Effect.fail(invalid(unknown.map((key) => ({ path: [key], message: "Unknown field" }))))
  }
  if ("prompt" in fields && "messages" in fields) {
    return Effect.fail(invalid([{ path: [], message: 'Expected "prompt" or "messages", not both' }]))
  }
  if ("prompt" in fields) {
    const prompt = fields.prompt
    if (typeof prompt !== "string") {
      return Effect.fail(
        invalid([{ path: ["prompt"], message: `Expected a string, got ${JSON.stringify(prompt)}` }])
      )
    }
    if (prompt.trim() === "") return Effect.fail(invalid([{ path: ["prompt"], message: blank }]))
    return Effect.succeed([{ role: "user", content: prompt }])
  }
  if (!("messages" in fields)) {
    return Effect.fail(invalid([{ path: [], message: 'Expected "prompt" or "messages"' }]))
  }
  return ChatRequest.validate({ model, messages: fields.messages }).pipe(
    Effect.mapError((error) => invalid(error.issues)),
    Effect.flatMap(({ messages }) => {
      const issues = conversationIssues(messages)
      return issues.length > 0 ? Effect.fail(invalid(issues)) : Effect.succeed(messages)
    })
  )
}

const tooLarge = (limit: number) =>
  new Rejected({
    status: 413,
    message: `The request body is larger than the limit of ${ByteSize.format(ByteSize.bytes(limit), { system: "binary" })} (${limit} bytes)`,
    issues: [],
    limit
  })

/**
 * Reads the request's body as JSON, refusing more than `limit` bytes.
 *
 * **Gotchas**
 *
 * A `Content-Length` over the limit is refused before reading anything; a
 * chunked body is read up to the limit, and the rest is drained, not kept.
 */
export const read = (
  request: HttpServerRequest.HttpServerRequest,
  limit: number
): Effect.Effect<unknown, Rejected> => {
  const declared = Number(request.headers["content-length"] ?? Number.NaN)
  if (declared > limit) return Effect.fail(tooLarge(limit))
  return request.text.pipe(
    Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(limit)),
    Effect.mapError((error) =>
      error.reason._tag === "RequestParseError" && error.reason.reason === "BodyTooLarge"
        ? tooLarge(limit)
        : invalid([{ path: [], message: `The body could not be read: ${error.message}` }])
    ),
    Effect.flatMap((text) =>
      Effect.try({
        try: () => JSON.parse(text) as unknown,
        catch: () => invalid([{ path: [], message: "The body is not JSON" }])
      })
    )
  )
}

/** The answer to a refused body: the status, and `{ error: { message, type, param, issues, limit? } }`. */
export const toResponse = (rejected: Rejected): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.jsonUnsafe(
    {
      error: {
        message: rejected.message,
        type: "invalid_request_error",
        param: rejected.issues[0]?.path.join(".") || null,
        issues: rejected.issues,
        ...(rejected.limit === undefined ? {} : { limit: rejected.limit })
      }
    },
    { status: rejected.status }
  )
