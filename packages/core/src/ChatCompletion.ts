/**
 * A whole answer: what `complete` returns and what a stream adds up to.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { FinishReason } from "./FinishReason.ts"
import { Usage } from "./Usage.ts"

/**
 * A complete tool call: its id, the function's name and its JSON arguments.
 *
 * @since 0.1.0
 */
export const ToolCall = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  arguments: Schema.String
})

/**
 * @since 0.1.0
 */
export type ToolCall = typeof ToolCall.Type

/**
 * A complete answer.
 *
 * @since 0.1.0
 */
export const ChatCompletion = Schema.Struct({
  text: Schema.String,
  finishReason: FinishReason,
  rawFinishReason: Schema.optionalKey(Schema.String),
  toolCalls: Schema.optionalKey(Schema.Array(ToolCall)),
  usage: Schema.optionalKey(Usage),
  model: Schema.optionalKey(Schema.String),
  requestId: Schema.optionalKey(Schema.String)
})

/**
 * @since 0.1.0
 */
export type ChatCompletion = typeof ChatCompletion.Type
