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
 * Everything a `ResilientChat` stream emits.
 *
 * @since 0.1.0
 */
export const StreamEvent = Schema.Union([TextDelta, ToolCallDelta, Finish, Retrying, Fallback])

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
