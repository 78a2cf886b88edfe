/**
 * What a provider adapter emits from `ChatModel.stream`: content and one
 * `finish`, nothing about recovery (that is `ResilientChat`'s job).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Finish, TextDelta, ToolCallDelta } from "./StreamEvent.ts"

/**
 * The provider-level event union: a subset of `StreamEvent`.
 *
 * @since 0.1.0
 */
export const ModelEvent = Schema.Union([TextDelta, ToolCallDelta, Finish])

/**
 * @since 0.1.0
 */
export type ModelEvent = typeof ModelEvent.Type
