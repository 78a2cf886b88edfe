/**
 * The Responses API events of one planned answer, in order, as the real API
 * sends them: `response.created`, `response.in_progress`, the message item
 * (content part, `output_text` deltas, done events), one item per function
 * call (argument deltas), then the terminal `response.completed` (or
 * `response.incomplete` for a length or content-filter finish). A scripted
 * `ErrorFrame` fault fails the generation itself: an `error` event and
 * `response.failed` after that many content events. Pure.
 *
 * Part of `FakeOpenAiServer`; not re-exported from `/testing`.
 *
 * @since 0.2.0
 */
import type * as AnswerPlan from "../AnswerPlan.ts"
import * as ErrorBodies from "../ErrorBodies.ts"
import type * as Step from "../Step.ts"

/**
 * One event as the generation emits it: its JSON without `sequence_number`,
 * whether it carries content (faults and the slow drip count those), whether
 * it ends the response.
 *
 * @since 0.2.0
 */
export interface Planned {
  readonly event: Readonly<Record<string, unknown>>
  readonly content: boolean
  readonly terminal: boolean
}

/**
 * Who the response is.
 *
 * @since 0.2.0
 */
export interface Identity {
  readonly id: string
  readonly model: string
  readonly background: boolean
  readonly createdAt: number
}

/**
 * The response object in a given state.
 *
 * @since 0.2.0
 */
export const response = (
  identity: Identity,
  status: string,
  extra: Readonly<Record<string, unknown>> = {}
): Record<string, unknown> => ({
  id: identity.id,
  object: "response",
  created_at: identity.createdAt,
  status,
  background: identity.background,
  model: identity.model,
  output: [],
  error: null,
  incomplete_details: null,
  usage: null,
  ...extra
})

const plain = (event: Record<string, unknown>): Planned => ({ event, content: false, terminal: false })
const content = (event: Record<string, unknown>): Planned => ({ event, content: true, terminal: false })
const terminal = (event: Record<string, unknown>): Planned => ({ event, content: false, terminal: true })

/**
 * Plans the events of `plan` for the response `identity`.
 *
 * @since 0.2.0
 */
export const plan = (identity: Identity, answer: AnswerPlan.Plan, step: Step.Answer): Array<Planned> => {
  const out: Array<Planned> = [
    plain({
      type: "response.created",
      response: response(identity, identity.background ? "queued" : "in_progress")
    }),
    plain({ type: "response.in_progress", response: response(identity, "in_progress") })
  ]
  const output: Array<Record<string, unknown>> = []
  const failAt = step.fault?._tag === "ErrorFrame" ? step.fault.afterChunks : undefined
  let contentEvents = 0
  const push = (planned: Planned): boolean => {
    if (planned.content) {
      if (contentEvents === failAt) return false
      contentEvents++
    }
    out.push(planned)
    return true
  }
  const failed = () => {
    const error =
      (step.fault?._tag === "ErrorFrame" ? step.fault.error : undefined) ?? ErrorBodies.serverErrorBody
    out.push(
      plain({
        type: "error",
        code: error.code ?? error.type,
        message: error.message,
        param: error.param ?? null
      })
    )
    out.push(
      terminal({
        type: "response.failed",
        response: response(identity, "failed", {
          output,
          error: { code: error.code ?? error.type, message: error.message }
        })
      })
    )
    return out
  }

  const texts = answer.deltas.flatMap((delta) => ("content" in delta ? [delta.content] : []))
  if (texts.length > 0 || answer.toolCalls.length === 0) {
    const item = { id: `msg_${identity.id}`, type: "message", role: "assistant" }
    const where = { item_id: item.id, output_index: 0, content_index: 0 }
    push(
      plain({
        type: "response.output_item.added",
        output_index: 0,
        item: { ...item, status: "in_progress", content: [] }
      })
    )
    push(
      plain({
        type: "response.content_part.added",
        ...where,
        part: { type: "output_text", text: "", annotations: [] }
      })
    )
    for (const delta of texts) {
      if (!push(content({ type: "response.output_text.delta", ...where, delta, logprobs: [] })))
        return failed()
    }
    const part = { type: "output_text", text: answer.text, annotations: [] }
    const done = { ...item, status: "completed", content: [part] }
    push(plain({ type: "response.output_text.done", ...where, text: answer.text, logprobs: [] }))
    push(plain({ type: "response.content_part.done", ...where, part }))
    push(plain({ type: "response.output_item.done", output_index: 0, item: done }))
    output.push(done)
  }
  for (const [index, call] of answer.toolCalls.entries()) {
    const outputIndex = output.length
    const item = {
      id: `fc_${identity.id}_${index}`,
      type: "function_call",
      call_id: call.id,
      name: call.name
    }
    const where = { item_id: item.id, output_index: outputIndex }
    push(
      plain({
        type: "response.output_item.added",
        output_index: outputIndex,
        item: { ...item, arguments: "", status: "in_progress" }
      })
    )
    for (const delta of answer.deltas) {
      const piece = "tool_calls" in delta ? delta.tool_calls[0] : undefined
      if (piece === undefined || piece.index !== index || piece.id !== undefined) continue
      const event = {
        type: "response.function_call_arguments.delta",
        ...where,
        delta: piece.function.arguments
      }
      if (!push(content(event))) return failed()
    }
    const done = { ...item, arguments: call.arguments, status: "completed" }
    push(plain({ type: "response.function_call_arguments.done", ...where, arguments: call.arguments }))
    push(plain({ type: "response.output_item.done", output_index: outputIndex, item: done }))
    output.push(done)
  }
  if (failAt !== undefined && failAt >= contentEvents) return failed()
  const usage = {
    input_tokens: answer.usage.prompt_tokens,
    output_tokens: answer.usage.completion_tokens,
    total_tokens: answer.usage.total_tokens
  }
  const reason =
    answer.finishReason === "length"
      ? "max_output_tokens"
      : answer.finishReason === "content_filter"
        ? "content_filter"
        : undefined
  out.push(
    terminal(
      reason === undefined
        ? { type: "response.completed", response: response(identity, "completed", { output, usage }) }
        : {
            type: "response.incomplete",
            response: response(identity, "incomplete", { output, usage, incomplete_details: { reason } })
          }
    )
  )
  return out
}

/**
 * One SSE frame of an event with its sequence number.
 *
 * @since 0.2.0
 */
export const frame = (event: Readonly<Record<string, unknown>>, sequence: number): string =>
  `event: ${String(event.type)}\ndata: ${JSON.stringify({ ...event, sequence_number: sequence })}\n\n`
