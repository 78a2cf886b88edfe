/**
 * Exactly-once bookkeeping: what the consumer has received, and a per-attempt
 * filter that lets through only content not delivered before.
 *
 * @internal
 */
import type { ChatCompletion, ToolCall } from "../ChatCompletion.ts"
import type { ChatRequest } from "../ChatRequest.ts"
import type { Finish, ToolCallDelta } from "../StreamEvent.ts"

/** What one tool call (by index) has delivered so far. */
export interface DeliveredTool {
  id: string | undefined
  name: string | undefined
  args: string
}

/** What the consumer has received during one call. Mutable, owned by one call. */
export interface Delivered {
  text: string
  readonly tools: Map<number, DeliveredTool>
}

export const make = (): Delivered => ({ text: "", tools: new Map() })

export const hasContent = (delivered: Delivered): boolean => delivered.text !== "" || delivered.tools.size > 0

/** A continuation can only carry text: the delivered text as an assistant prefix, placed last. */
export const continuationRequest = (
  request: ChatRequest,
  delivered: Delivered,
  instruction: string
): ChatRequest => {
  if (delivered.text === "") return request
  const messages = request.messages
  const last = messages[messages.length - 1]
  // A request that already ends with an assistant prefill is continued from prefill + delivered text.
  const prefill = last?.role === "assistant" ? last.content : ""
  const head = last?.role === "assistant" ? messages.slice(0, -1) : messages
  return {
    ...request,
    messages: [
      ...head,
      { role: "system", content: instruction },
      { role: "assistant", content: prefill + delivered.text }
    ]
  }
}

/** The completion the delivered content adds up to. */
export const toCompletion = (delivered: Delivered, finish: Finish, model: string): ChatCompletion => {
  const toolCalls: Array<ToolCall> = [...delivered.tools.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, tool]) => ({ id: tool.id ?? `call_${index}`, name: tool.name ?? "", arguments: tool.args }))
  return {
    text: delivered.text,
    finishReason: finish.reason,
    ...(finish.rawReason === undefined ? {} : { rawFinishReason: finish.rawReason }),
    ...(toolCalls.length === 0 ? {} : { toolCalls }),
    ...(finish.usage === undefined ? {} : { usage: finish.usage }),
    model
  }
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff

/**
 * Longest k ≤ min(|d|, |b|) such that d ends with b[0, k), where k is at least
 * `minOverlap` or is all of d (a continuation that restarts from the
 * beginning); 0 when none.
 */
export const overlap = (delivered: string, buffer: string, minOverlap: number): number => {
  for (let k = Math.min(delivered.length, buffer.length); k >= 1; k--) {
    if ((k >= minOverlap || k === delivered.length) && delivered.endsWith(buffer.slice(0, k))) return k
  }
  return 0
}

/** Whether more of the continuation could still make a longer overlap than what `buffer` shows. */
const couldGrow = (delivered: string, buffer: string, minOverlap: number): boolean => {
  for (let at = delivered.indexOf(buffer); at !== -1; at = delivered.indexOf(buffer, at + 1)) {
    const suffix = delivered.length - at
    if (suffix > buffer.length && (suffix >= minOverlap || at === 0)) return true
  }
  return false
}

/** A diverged replay: the new attempt's tool call does not continue what was delivered. */
export class Diverged {
  readonly _tag = "Diverged"
  readonly index: number
  constructor(index: number) {
    this.index = index
  }
}

/**
 * The filter for one attempt. Text: the first characters of a continuation
 * are held until it is clear how much of the delivered tail they repeat, and
 * a trailing high surrogate is held until its pair arrives (so the delivered
 * text never ends inside a character). Tool calls: each attempt replays them
 * from the start; already-delivered argument text, ids and names are skipped.
 *
 * Everything returned is delivered (the caller emits it and records it here).
 */
export const attempt = (delivered: Delivered, minOverlap: number) => {
  const base = delivered.text
  let matching = base !== ""
  let buffer = ""
  let pendingHigh = ""
  const replayed = new Map<number, string>()

  const release = (text: string): string => {
    const all = pendingHigh + text
    const last = all.charCodeAt(all.length - 1)
    if (all.length > 0 && isHighSurrogate(last)) {
      pendingHigh = all.slice(-1)
      return record(all.slice(0, -1))
    }
    pendingHigh = ""
    return record(all)
  }

  const record = (text: string): string => {
    delivered.text += text
    return text
  }

  const text = (delta: string): string => {
    if (!matching) return release(delta)
    buffer += delta
    if (couldGrow(base, buffer, minOverlap)) return ""
    matching = false
    const out = buffer.slice(overlap(base, buffer, minOverlap))
    buffer = ""
    return release(out)
  }

  /** At a successful finish: everything still held is delivered. */
  const flush = (): string => {
    let out = ""
    if (matching) {
      matching = false
      out = buffer.slice(overlap(base, buffer, minOverlap))
      buffer = ""
    }
    const all = pendingHigh + out
    pendingHigh = ""
    return record(all)
  }

  /** A whole answer (not a continuation): it must start with the delivered text. */
  const whole = (answer: string): string | undefined => {
    if (!answer.startsWith(base)) return undefined
    return record(answer.slice(base.length))
  }

  const tool = (event: ToolCallDelta): ToolCallDelta | undefined | Diverged => {
    const previous = replayed.get(event.index) ?? ""
    const args = previous + event.argumentsDelta
    replayed.set(event.index, args)
    const known = delivered.tools.get(event.index) ?? { id: undefined, name: undefined, args: "" }
    const consistent =
      args.length <= known.args.length ? known.args.startsWith(args) : args.startsWith(known.args)
    if (!consistent) return new Diverged(event.index)
    const fresh = args.slice(Math.max(known.args.length, previous.length))
    known.args += fresh
    const id = event.id !== undefined && known.id === undefined ? event.id : undefined
    const name = event.name !== undefined && known.name === undefined ? event.name : undefined
    if (id !== undefined) known.id = id
    if (name !== undefined) known.name = name
    if (fresh === "" && id === undefined && name === undefined) return undefined
    delivered.tools.set(event.index, known)
    return {
      type: "tool-call-delta",
      index: event.index,
      ...(id === undefined ? {} : { id }),
      ...(name === undefined ? {} : { name }),
      argumentsDelta: fresh
    }
  }

  return { text, flush, whole, tool }
}

export type Attempt = ReturnType<typeof attempt>
