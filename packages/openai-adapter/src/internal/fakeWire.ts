/**
 * The fake server's wire side: OpenAI JSON shapes, SSE frames and the
 * socket-level writes (split writes, resets) for one response. Every wait is
 * a real `setTimeout` (never the Effect `Clock`), so the server keeps real
 * time even inside a test that runs under `TestClock`.
 *
 * @internal
 */
import type * as Http from "node:http"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as FakeScenario from "../testing/FakeScenario.ts"
import type * as FakeAnswer from "./fakeAnswer.ts"

/** Waits on a real timer; interruptible. */
export const sleep = (duration: Duration.Input): Effect.Effect<void> => {
  const millis = Duration.toMillis(duration)
  return millis <= 0
    ? Effect.void
    : Effect.callback<void>((resume) => {
        const timer = setTimeout(() => resume(Effect.void), millis)
        return Effect.sync(() => clearTimeout(timer))
      })
}

/** Writes and waits until the data is handed to the kernel. */
export const write = (res: Http.ServerResponse, data: string | Uint8Array): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    res.write(data, () => resume(Effect.void))
  })

/** `data: <json>\n\n`. */
export const frame = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`

/** Everything a chunk of one answer shares. */
export interface ChunkBase {
  readonly id: string
  readonly created: number
  readonly model: string
  readonly includeUsage: boolean
}

/** A `chat.completion.chunk` with one choice. */
export const chunk = (
  base: ChunkBase,
  delta: FakeAnswer.Delta | { readonly role: "assistant"; readonly content: string } | Record<string, never>,
  finishReason: string | null
): unknown => ({
  id: base.id,
  object: "chat.completion.chunk",
  created: base.created,
  model: base.model,
  system_fingerprint: "fp_fake",
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  ...(base.includeUsage ? { usage: null } : {})
})

/** The trailing usage chunk (`stream_options.include_usage`). */
export const usageChunk = (base: ChunkBase, usage: FakeAnswer.Plan["usage"]): unknown => ({
  id: base.id,
  object: "chat.completion.chunk",
  created: base.created,
  model: base.model,
  system_fingerprint: "fp_fake",
  choices: [],
  usage
})

/** A whole non-streaming `chat.completion`. */
export const completion = (base: ChunkBase, plan: FakeAnswer.Plan): unknown => ({
  id: base.id,
  object: "chat.completion",
  created: base.created,
  model: base.model,
  system_fingerprint: "fp_fake",
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        content: plan.text.length === 0 && plan.toolCalls.length > 0 ? null : plan.text,
        refusal: null,
        ...(plan.toolCalls.length > 0
          ? {
              tool_calls: plan.toolCalls.map((call) => ({
                id: call.id,
                type: "function",
                function: { name: call.name, arguments: call.arguments }
              }))
            }
          : {})
      },
      logprobs: null,
      finish_reason: plan.finishReason
    }
  ],
  usage: plan.usage
})

/** `{"error": {message, type, param, code}}` with `{apiKey}` replaced by the sent token. */
export const errorBody = (error: FakeScenario.ErrorBody, sentKey: string): unknown => ({
  error: {
    message: error.message.replaceAll("{apiKey}", sentKey),
    type: error.type,
    param: error.param ?? null,
    code: error.code ?? null
  }
})

/** The headers a `Retry-After` becomes. */
export const retryAfterHeaders = (
  retryAfter: FakeScenario.RetryAfter | undefined
): Record<string, string> => {
  if (retryAfter === undefined) return {}
  switch (retryAfter._tag) {
    case "Seconds":
      return { "retry-after": String(retryAfter.seconds) }
    case "Millis":
      return { "retry-after-ms": String(retryAfter.millis) }
    case "HttpDate":
      return { "retry-after": new Date(Date.now() + retryAfter.secondsFromNow * 1000).toUTCString() }
  }
}

/** Sends a JSON response and ends it. */
export const sendJson = (
  res: Http.ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {}
): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const data = JSON.stringify(body)
    res.writeHead(status, {
      ...headers,
      "content-type": "application/json",
      "content-length": Buffer.byteLength(data)
    })
    res.end(data, () => resume(Effect.void))
  })

/**
 * Writes one frame; with `split`, a frame holding a multi-byte character is
 * written in two TCP writes that cut that character in half, with a short
 * pause between them so the client reads them separately.
 */
export const writeFrame = (res: Http.ServerResponse, data: string, split: boolean): Effect.Effect<void> => {
  if (!split) return write(res, data)
  const bytes = Buffer.from(data, "utf8")
  const lead = bytes.findIndex((byte) => byte >= 0xc0)
  if (lead < 0) return write(res, data)
  return write(res, bytes.subarray(0, lead + 1)).pipe(
    Effect.andThen(sleep(15)),
    Effect.andThen(write(res, bytes.subarray(lead + 1)))
  )
}

/**
 * Resets the connection (TCP RST) once what was written has had time to
 * reach the client, so the client sees every byte before the reset.
 */
export const reset = (res: Http.ServerResponse): Effect.Effect<void> =>
  sleep(25).pipe(
    Effect.andThen(
      Effect.sync(() => {
        const socket = res.socket
        if (socket !== null && !socket.destroyed) socket.resetAndDestroy()
      })
    )
  )

/** A malformed `data:` frame: a chunk cut off in the middle of its JSON. */
export const malformedFrame = (base: ChunkBase): string =>
  `data: {"id":"${base.id}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"oops\n\n`
