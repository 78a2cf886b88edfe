/**
 * Shared pieces of the chaos suite (and the benchmarks): a recognisable key,
 * a fast policy, `ResilientChat` over the real adapter pointed at a fake
 * server, and exactly-once accounting.
 */
import {
  ChatError,
  type ChatRequest,
  type ResiliencePolicy,
  ResilientChat,
  type StreamEvent
} from "@steadystream/core"
import { OpenAiChatModel } from "@steadystream/openai-adapter"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"

/** A key nobody could mistake for anything else: the secrets scan looks for it. */
export const apiKey = "sk-chaos-CANARY-7d3f9e21b4a6c580e2"

export const request: ChatRequest.ChatRequest = {
  model: "gpt-fake",
  messages: [{ role: "user", content: "Tell me about foxes" }]
}

/**
 * Short delays so the suite runs in seconds: the same shape as the defaults
 * (backoff with jitter, three retries, the non-streaming fallback), scaled down.
 */
export const fastPolicy: ResiliencePolicy.ResiliencePolicy = {
  retry: { maxRetries: 3, baseDelay: "5 millis", maxDelay: "40 millis", maxRetryAfter: "2 seconds" },
  timeouts: { firstToken: "250 millis", idle: "250 millis", total: "15 seconds" },
  circuitBreaker: false
}

/** `ResilientChat` over the real `OpenAiChatModel` (in the server's `dialect`), pointed at `baseURL`. */
export const chatLayer = (
  baseURL: string,
  policy: ResiliencePolicy.ResiliencePolicy = fastPolicy,
  key: string = apiKey,
  dialect: OpenAiChatModel.DialectOptions = {}
) =>
  ResilientChat.layer(policy).pipe(
    Layer.provide(OpenAiChatModel.layer({ apiKey: Redacted.make(key), baseURL, ...dialect }))
  )

/** What a consumer saw. `defect` is set when the stream died or was interrupted instead of failing typed. */
export interface Outcome {
  readonly events: ReadonlyArray<StreamEvent.StreamEvent>
  readonly text: string
  readonly error: ChatError.ChatError | undefined
  readonly defect: string | undefined
}

/** Runs one stream to its end, keeping the events seen before any failure. */
export const runStream = (
  chat: ResilientChat.Service,
  req: ChatRequest.ChatRequest = request
): Effect.Effect<Outcome> =>
  Effect.gen(function* () {
    const events: Array<StreamEvent.StreamEvent> = []
    const exit = yield* chat.stream(req).pipe(
      Stream.runForEach((event) => Effect.sync(() => events.push(event))),
      Effect.exit
    )
    const text = textOf(events)
    if (Exit.isSuccess(exit)) return { events, text, error: undefined, defect: undefined }
    const failure = exit.cause.reasons.find(Cause.isFailReason)
    const error = failure?.error
    if (error !== undefined && ChatError.isChatError(error) && exit.cause.reasons.length === 1) {
      return { events, text, error, defect: undefined }
    }
    return { events, text, error: undefined, defect: Cause.pretty(exit.cause) }
  })

/** The concatenated text deltas. */
export const textOf = (events: ReadonlyArray<StreamEvent.StreamEvent>): string => {
  let text = ""
  for (const event of events) if (event.type === "text-delta") text += event.delta
  return text
}

/**
 * How a received text differs from the expected one, in UTF-16 code units:
 * `lost` expected characters that never arrived, `duplicated` characters that
 * arrived but are not part of one in-order copy of the expected text (a
 * replayed prefix counts here). Both are 0 exactly when the texts are equal.
 * Measured with the longest common subsequence.
 */
export const account = (
  expected: string,
  received: string
): { readonly duplicated: number; readonly lost: number } => {
  if (expected === received) return { duplicated: 0, lost: 0 }
  const n = expected.length
  const m = received.length
  let previous = new Uint32Array(m + 1)
  let current = new Uint32Array(m + 1)
  for (let i = 1; i <= n; i++) {
    const a = expected.charCodeAt(i - 1)
    for (let j = 1; j <= m; j++) {
      current[j] =
        a === received.charCodeAt(j - 1) ? previous[j - 1]! + 1 : Math.max(previous[j]!, current[j - 1]!)
    }
    ;[previous, current] = [current, previous]
  }
  const common = previous[m]!
  return { duplicated: m - common, lost: n - common }
}
