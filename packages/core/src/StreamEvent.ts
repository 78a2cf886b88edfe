/**
 * What a consumer of `ResilientChat.stream` receives: a flat union keyed on
 * `type`. Content (`text-delta`, `tool-call-delta`), exactly one `finish` on
 * success, and the recovery steps (`retrying`, `fallback`) made visible.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { ChatError } from "./ChatError.ts"
import { FinishReason } from "./FinishReason.ts"
import { Usage } from "./Usage.ts"

/**
 * A piece of answer text.
 *
 * @since 0.1.0
 */
export const TextDelta = Schema.Struct({
  type: Schema.Literal("text-delta"),
  delta: Schema.String
})

/**
 * @since 0.1.0
 */
export type TextDelta = typeof TextDelta.Type

/**
 * A piece of the model's reasoning (DeepSeek `reasoning_content`, vLLM and
 * OpenRouter `reasoning`, Responses reasoning summaries). Never part of the
 * answer text; counts as liveness for the first-token and idle deadlines.
 *
 * @since 0.2.0
 */
export const ReasoningDelta = Schema.Struct({
  type: Schema.Literal("reasoning-delta"),
  delta: Schema.String
})

/**
 * @since 0.2.0
 */
export type ReasoningDelta = typeof ReasoningDelta.Type

/**
 * A piece of a tool call: `index` identifies the call within the answer,
 * `id` and `name` arrive once, `argumentsDelta` is a fragment of its JSON
 * arguments.
 *
 * @since 0.1.0
 */
export const ToolCallDelta = Schema.Struct({
  type: Schema.Literal("tool-call-delta"),
  index: Schema.Int,
  id: Schema.optionalKey(Schema.String),
  name: Schema.optionalKey(Schema.String),
  argumentsDelta: Schema.String
})

/**
 * @since 0.1.0
 */
export type ToolCallDelta = typeof ToolCallDelta.Type

/**
 * The end of a successful answer. `rawReason` keeps the provider's own value.
 *
 * @since 0.1.0
 */
export const Finish = Schema.Struct({
  type: Schema.Literal("finish"),
  reason: FinishReason,
  rawReason: Schema.optionalKey(Schema.String),
  usage: Schema.optionalKey(Usage)
})

/**
 * @since 0.1.0
 */
export type Finish = typeof Finish.Type

/**
 * A recoverable failure happened; the next attempt starts after `delay`.
 * `attempt` counts from 1 for the first retry.
 *
 * @since 0.1.0
 */
export const Retrying = Schema.Struct({
  type: Schema.Literal("retrying"),
  attempt: Schema.Int,
  delay: Schema.DurationFromMillis,
  error: ChatError
})

/**
 * @since 0.1.0
 */
export type Retrying = typeof Retrying.Type

/**
 * Retries are spent or skipped: the fallback chain moves on to `step`.
 *
 * @since 0.1.0
 */
export const Fallback = Schema.Struct({
  type: Schema.Literal("fallback"),
  step: Schema.String,
  error: ChatError
})

/**
 * @since 0.1.0
 */
export type Fallback = typeof Fallback.Type

/**
 * `midStream: "restart"` only: everything delivered so far (text, tool calls,
 * reasoning) is withdrawn — the consumer discards it — and a fresh answer
 * follows. `error` is the failure that broke the first answer.
 *
 * @since 0.2.0
 */
export const Restart = Schema.Struct({
  type: Schema.Literal("restart"),
  error: ChatError
})

/**
 * @since 0.2.0
 */
export type Restart = typeof Restart.Type

/**
 * The call waits `delay` before calling `model`: a 429 with Retry-After,
 * seen by this call, another call, or (on a shared Redis) another instance,
 * put the model in a cooldown, and no request is sent to it inside the window.
 *
 * **Details**
 *
 * A wait longer than `maxRetryAfter` or than what is left of the `total`
 * deadline is not made: the step is skipped with a `RateLimited` error (a
 * `fallback` event follows).
 *
 * @since 0.2.0
 */
export const Cooldown = Schema.Struct({
  type: Schema.Literal("cooldown"),
  model: Schema.String,
  delay: Schema.DurationFromMillis
})

/**
 * @since 0.2.0
 */
export type Cooldown = typeof Cooldown.Type

/**
 * Everything a `ResilientChat` stream emits.
 *
 * @since 0.1.0
 */
export const StreamEvent = Schema.Union([
  TextDelta,
  ReasoningDelta,
  ToolCallDelta,
  Finish,
  Retrying,
  Fallback,
  Restart,
  Cooldown
])

/**
 * @since 0.1.0
 */
export type StreamEvent = typeof StreamEvent.Type

/**
 * Events that carry answer content.
 *
 * @since 0.1.0
 */
export const isContent = (event: { readonly type: string }): event is TextDelta | ToolCallDelta =>
  event.type === "text-delta" || event.type === "tool-call-delta"
