/**
 * What a provider adapter emits from `ChatModel.stream`: content, reasoning,
 * resume checkpoints and one `finish`, nothing about recovery (that is
 * `ResilientChat`'s job).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Finish, ReasoningDelta, TextDelta, ToolCallDelta } from "./StreamEvent.ts"

/**
 * Where a resumable stream can be picked up again: the provider's id of the
 * generation and the last sequence number whose events were emitted.
 *
 * @since 0.2.0
 */
export const ResumeCursor = Schema.Struct({
  id: Schema.String,
  sequence: Schema.Int
})

/**
 * @since 0.2.0
 */
export type ResumeCursor = typeof ResumeCursor.Type

/**
 * Emitted by adapters whose target can resume (`ChatModel.resumable`) after
 * the events up to `cursor`: a broken stream resumes from the newest one.
 * Never reaches a `ResilientChat` consumer.
 *
 * @since 0.2.0
 */
export const Checkpoint = Schema.Struct({
  type: Schema.Literal("checkpoint"),
  cursor: ResumeCursor
})

/**
 * @since 0.2.0
 */
export type Checkpoint = typeof Checkpoint.Type

/**
 * The provider-level event union.
 *
 * @since 0.1.0
 */
export const ModelEvent = Schema.Union([TextDelta, ReasoningDelta, ToolCallDelta, Checkpoint, Finish])

/**
 * @since 0.1.0
 */
export type ModelEvent = typeof ModelEvent.Type
