/**
 * The fake server's wire encoding: OpenAI JSON shapes (chunks, completions,
 * error bodies), SSE frames and `Retry-After` headers. Pure, but for the
 * clock an HTTP-date `Retry-After` is counted from.
 *
 * Part of `FakeOpenAiServer`; not re-exported from `/testing`.
 *
 * @since 0.1.0
 */
import type * as AnswerPlan from "./AnswerPlan.ts"
import * as Shapes from "./Shapes.ts"
import type * as Step from "./Step.ts"

/** `data: <json>\n\n`. */
export const frame = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`

/** Everything a chunk of one answer shares. */
export interface ChunkBase {
  readonly id: string
  readonly created: number
  readonly model: string
  readonly includeUsage: boolean
  /** Whose chunk shapes to send. */
  readonly shape: Step.Shape
}

/** A chunk's `delta`: content, refusal or tool calls, the role chunk's, reasoning, or empty. */
export type ChunkDelta =
  | AnswerPlan.Delta
  | { readonly role: "assistant"; readonly content: string }
  | { readonly [field in AnswerPlan.ReasoningPlan["field"]]?: string }
  | Record<string, never>

/** A `chat.completion.chunk` with one choice. */
export const chunk = (base: ChunkBase, delta: ChunkDelta, finishReason: string | null): unknown => {
  const extras = Shapes.extras(base.shape, finishReason)
  return {
    id: base.id,
    object: "chat.completion.chunk",
    created: base.created,
    model: base.model,
    system_fingerprint: "fp_fake",
    ...extras.chunk,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason, ...extras.choice }],
    ...(base.includeUsage ? { usage: null } : {})
  }
}

/**
 * The chunk of a generation that failed on the server's side:
 * `finish_reason: "error"` with an empty content delta and, when given, a
 * top-level `error` object (OpenRouter's shape).
 */
export const errorFinishChunk = (base: ChunkBase, error: Step.InBandError | undefined): unknown => {
  const failed = chunk(base, { content: "" }, "error") as object
  return error === undefined ? failed : { ...failed, error }
}

/** The trailing usage chunk (`stream_options.include_usage`). */
export const usageChunk = (base: ChunkBase, usage: AnswerPlan.Plan["usage"]): unknown => ({
  id: base.id,
  object: "chat.completion.chunk",
  created: base.created,
  model: base.model,
  system_fingerprint: "fp_fake",
  choices: [],
  usage
})

/**
 * A whole non-streaming `chat.completion` (with `failed`: cut short, with
 * `finish_reason: "error"` and the error object if any).
 */
export const completion = (
  base: ChunkBase,
  plan: AnswerPlan.Plan,
  failed?: { readonly error: Step.InBandError | undefined }
): unknown => ({
  ...(failed?.error === undefined ? {} : { error: failed.error }),
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
        content:
          plan.refusal !== undefined || (plan.text.length === 0 && plan.toolCalls.length > 0)
            ? null
            : failed === undefined
              ? plan.text
              : "",
        refusal: plan.refusal ?? null,
        ...(plan.reasoning === undefined ? {} : { [plan.reasoning.field]: plan.reasoning.text }),
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
      finish_reason: failed === undefined ? plan.finishReason : "error"
    }
  ],
  usage: plan.usage
})

/** The `/v1/models` list, holding one model. */
export const models = (model: string): unknown => ({
  object: "list",
  data: [{ id: model, object: "model", created: 1_700_000_000, owned_by: "steadystream" }]
})

/** `{"error": {message, type, param, code}}` with `{apiKey}` replaced by the sent token. */
export const errorBody = (error: Step.ErrorBody, sentKey: string): unknown => ({
  error: {
    message: error.message.replaceAll("{apiKey}", sentKey),
    type: error.type,
    param: error.param ?? null,
    code: error.code ?? null
  }
})

/** The headers a `Retry-After` becomes. */
export const retryAfterHeaders = (retryAfter: Step.RetryAfter | undefined): Record<string, string> => {
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

/** A malformed `data:` frame: a chunk cut off in the middle of its JSON. */
export const malformedFrame = (base: ChunkBase): string =>
  `data: {"id":"${base.id}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"oops\n\n`
