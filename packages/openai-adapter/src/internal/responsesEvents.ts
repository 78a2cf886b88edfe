/**
 * Responses API stream events → model events, with a cheap shape check of
 * each event (what the mapper reads must have the right type, or the event is
 * a `MalformedResponse`), and the decoder that appends one `checkpoint` to
 * each batch: the response id and the sequence number of the last event read.
 *
 * @internal
 */
import type { ChatError, FinishReason, ModelEvent, StreamEvent, Usage } from "@steadystream/core"
import * as Errors from "./errors.ts"
import type * as EventStream from "./eventStream.ts"

/** What a stream has seen so far. Mutated in place by {@link mapEvent}. */
export interface State {
  /** The response id, from `response.created` (or the cursor a resume starts from). */
  id: string | undefined
  /** The sequence number of the last event read. */
  sequence: number | undefined
  delivered: string
  toolCalls: boolean
}

/** A fresh state; a resumed stream starts from its cursor. */
export const makeState = (cursor?: { readonly id: string; readonly sequence: number }): State => ({
  id: cursor?.id,
  sequence: cursor?.sequence,
  delivered: "",
  toolCalls: false
})

type Json = Readonly<Record<string, unknown>>

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** Responses token usage → core `Usage` (`undefined` unless its three counts are numbers). */
export const toUsage = (usage: unknown): Usage.Usage | undefined =>
  isObject(usage) &&
  typeof usage.input_tokens === "number" &&
  typeof usage.output_tokens === "number" &&
  typeof usage.total_tokens === "number"
    ? { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens, totalTokens: usage.total_tokens }
    : undefined

/** `incomplete_details.reason` → the closed core set. */
export const incompleteReason = (raw: string): FinishReason.FinishReason =>
  raw === "max_output_tokens" ? "length" : raw === "content_filter" ? "content-filter" : "other"

const hasFunctionCall = (response: Json): boolean =>
  Array.isArray(response.output) &&
  response.output.some((item) => isObject(item) && item.type === "function_call")

/**
 * The finish of a terminal `response`: completed (`tool-calls` when it made
 * any), or incomplete with its reason. A content filter that stopped the
 * answer before anything was delivered is `ContentFiltered`; a failed
 * response is the error it carries.
 */
export const finishOf = (
  response: Json,
  seen: { readonly delivered: boolean; readonly toolCalls: boolean },
  context: Errors.Context
): StreamEvent.Finish => {
  const usage = toUsage(response.usage)
  const withUsage = (reason: FinishReason.FinishReason, rawReason: string): StreamEvent.Finish =>
    usage === undefined ? { type: "finish", reason, rawReason } : { type: "finish", reason, rawReason, usage }
  const status = response.status
  if (status === "failed" || status === "cancelled") {
    throw Errors.fromInBand(
      isObject(response.error) ? response.error : { message: `The response ${status}`, type: "server_error" },
      context
    )
  }
  if (status === "incomplete") {
    const details = response.incomplete_details
    const raw = isObject(details) && typeof details.reason === "string" ? details.reason : "incomplete"
    if (raw === "content_filter" && !seen.delivered && !seen.toolCalls) {
      throw Errors.fromInBand(
        { message: "The answer was blocked by the content filter", code: "content_filter" },
        context
      )
    }
    return withUsage(incompleteReason(raw), raw)
  }
  return withUsage(seen.toolCalls || hasFunctionCall(response) ? "tool-calls" : "stop", "completed")
}

const field = (event: Json, key: string, type: "string" | "number" | "object", context: Errors.Context) => {
  const value = event[key]
  const ok = type === "object" ? isObject(value) : typeof value === type
  if (!ok) throw Errors.malformed(context, `${String(event.type)} without a ${type} "${key}"`)
  return value
}

/**
 * Appends the model events of one stream event to `out`; returns `true` at
 * the terminal event (`response.completed` / `.incomplete` / `.failed`),
 * after pushing the finish. Throws a `ChatError` for an `error` event (flat
 * or nested), a failed response, a refusal and a malformed event. Events it
 * does not know are skipped.
 */
export const mapEvent = (
  event: unknown,
  state: State,
  out: Array<ModelEvent.ModelEvent>,
  context: Errors.Context
): boolean => {
  if (!isObject(event) || typeof event.type !== "string") {
    throw Errors.malformed(context, "an event that is not an object with a type")
  }
  switch (event.type) {
    case "response.output_text.delta": {
      const delta = field(event, "delta", "string", context) as string
      if (delta.length > 0) {
        state.delivered += delta
        out.push({ type: "text-delta", delta })
      }
      break
    }
    case "response.function_call_arguments.delta": {
      const index = field(event, "output_index", "number", context) as number
      const argumentsDelta = field(event, "delta", "string", context) as string
      state.toolCalls = true
      out.push({ type: "tool-call-delta", index, argumentsDelta })
      break
    }
    case "response.output_item.added": {
      const item = field(event, "item", "object", context) as Json
      if (item.type !== "function_call") break
      const index = field(event, "output_index", "number", context) as number
      state.toolCalls = true
      out.push({
        type: "tool-call-delta",
        index,
        id: field(item, "call_id", "string", context) as string,
        name: field(item, "name", "string", context) as string,
        argumentsDelta: typeof item.arguments === "string" ? item.arguments : ""
      })
      break
    }
    case "response.reasoning_summary_text.delta":
    case "response.reasoning_text.delta": {
      const delta = field(event, "delta", "string", context) as string
      if (delta.length > 0) out.push({ type: "reasoning-delta", delta })
      break
    }
    case "response.refusal.done":
      throw Errors.refused(context, field(event, "refusal", "string", context) as string)
    case "error":
      throw Errors.fromInBand(isObject(event.error) ? event.error : event, context)
    case "response.created":
    case "response.queued":
    case "response.in_progress": {
      const response = field(event, "response", "object", context) as Json
      if (typeof response.id === "string") state.id = response.id
      break
    }
    case "response.completed":
    case "response.incomplete":
    case "response.failed": {
      const response = field(event, "response", "object", context) as Json
      const status = event.type === "response.failed" ? "failed" : response.status
      out.push(
        finishOf(
          { ...response, status },
          { delivered: state.delivered.length > 0, toolCalls: state.toolCalls },
          context
        )
      )
      return true
    }
  }
  return false
}

/**
 * The decoder of one Responses stream. Each batch ends with a `checkpoint`
 * (response id, last sequence number read) when the id is known and the
 * sequence moved: at most one per body read. When an event fails the batch,
 * the events before it go out first with their checkpoint.
 */
export const decoder = (state: State, context: Errors.Context): EventStream.Decoder => {
  let checkpointed = state.sequence
  const checkpoint = (out: Array<ModelEvent.ModelEvent>) => {
    if (state.id === undefined || state.sequence === undefined || state.sequence === checkpointed) return
    checkpointed = state.sequence
    out.push({ type: "checkpoint", cursor: { id: state.id, sequence: state.sequence } })
  }
  return {
    delivered: () => state.delivered,
    truncation: () => "the body ended before a terminal event (response.completed, .incomplete or .failed)",
    decode: (frames, out) => {
      try {
        for (const frame of frames) {
          if (frame.data.length === 0 || frame.data === "[DONE]") continue
          const event: unknown = JSON.parse(frame.data)
          if (mapEvent(event, state, out, context)) return true
          const sequence = (event as Json).sequence_number
          if (typeof sequence === "number") state.sequence = sequence
        }
      } catch (error) {
        if (out.length > 0) checkpoint(out)
        throw error as ChatError.ChatError | SyntaxError
      }
      checkpoint(out)
      return false
    }
  }
}
