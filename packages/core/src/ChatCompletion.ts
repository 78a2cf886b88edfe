/**
 * A whole answer: what `complete` returns and what a stream adds up to.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { FinishReason } from "./FinishReason.ts"
import type { ModelEvent } from "./ModelEvent.ts"
import type { Finish, StreamEvent } from "./StreamEvent.ts"
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

/**
 * Folds the events of a successful stream into a completion: the text, the
 * tool calls assembled by index (ids default to `call_<index>`), the finish
 * reason (`"other"` when no finish event is among them) and the usage. A
 * `restart` event discards the text and tool calls before it.
 *
 * @since 0.1.0
 */
export const fromEvents = (events: Iterable<StreamEvent | ModelEvent>, model?: string): ChatCompletion => {
  let text = ""
  let finish: Finish | undefined
  const tools = new Map<number, { id: string; name: string; arguments: string }>()
  for (const event of events) {
    if (event.type === "text-delta") text += event.delta
    else if (event.type === "restart") {
      text = ""
      tools.clear()
    } else if (event.type === "tool-call-delta") {
      const tool = tools.get(event.index) ?? { id: "", name: "", arguments: "" }
      tools.set(event.index, {
        id: event.id ?? tool.id,
        name: event.name ?? tool.name,
        arguments: tool.arguments + event.argumentsDelta
      })
    } else if (event.type === "finish") finish = event
  }
  const toolCalls: Array<ToolCall> = [...tools.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, tool]) => ({ ...tool, id: tool.id || `call_${index}` }))
  return {
    text,
    finishReason: finish?.reason ?? "other",
    ...(finish?.rawReason === undefined ? {} : { rawFinishReason: finish.rawReason }),
    ...(toolCalls.length === 0 ? {} : { toolCalls }),
    ...(finish?.usage === undefined ? {} : { usage: finish.usage }),
    ...(model === undefined ? {} : { model })
  }
}
