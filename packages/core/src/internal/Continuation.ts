/**
 * Exactly-once as a pure accumulator: what the consumer has received
 * (`Delivered`), and one attempt's reading of its model events (`Reading`).
 * Each step takes the state and a chunk of model events and returns the new
 * state and the events to hand over; nothing is mutated.
 *
 * A continuation's first characters are held until `Verifier` accepts them
 * (and says how many repeat the delivered text) or rejects the attempt; a
 * trailing high surrogate is held until its pair arrives, so the delivered
 * text never ends inside a character. Tool calls are replayed by every attempt
 * from their start; already-delivered ids, names and argument text are
 * skipped, and a replay that contradicts them is rejected.
 *
 * @internal
 */
import type { RejectionReason } from "../ChatError.ts"
import type { ModelEvent, ResumeCursor } from "../ModelEvent.ts"
import type { Finish, StreamEvent, ToolCallDelta } from "../StreamEvent.ts"
import * as Verifier from "./Verifier.ts"

/** What one tool call (by index) has delivered so far. */
export interface DeliveredTool {
  readonly id: string | undefined
  readonly name: string | undefined
  readonly args: string
}

/** What the consumer has received during one call. */
export interface Delivered {
  readonly text: string
  readonly tools: ReadonlyMap<number, DeliveredTool>
}

export const empty: Delivered = { text: "", tools: new Map() }

export const hasContent = (delivered: Delivered): boolean => delivered.text !== "" || delivered.tools.size > 0

/** How an attempt's text relates to what was delivered before it. */
export type Kind =
  /** A model answering the request, or continuing the delivered text (`mode`). */
  | { readonly _tag: "Model"; readonly minOverlap: number }
  /** The same generation picked up after a cursor: exact by construction. */
  | { readonly _tag: "Resumed" }
  /** A whole answer (cache, static text): it must start with the delivered text. */
  | { readonly _tag: "Whole" }

/** One attempt's reading state. */
export interface Reading {
  readonly base: string
  /** Text held: an unverified continuation head, or a trailing high surrogate. */
  readonly held: string
  readonly verifying: boolean
  readonly kind: Kind
  readonly replayed: ReadonlyMap<number, string>
  readonly cursor: ResumeCursor | undefined
}

export const start = (delivered: Delivered, kind: Kind): Reading => ({
  base: delivered.text,
  held: "",
  verifying: delivered.text !== "" && kind._tag !== "Resumed",
  kind,
  replayed: new Map(),
  cursor: undefined
})

/** The state after a step; `finish` once the attempt's answer is complete. */
export interface Step {
  readonly reading: Reading
  readonly delivered: Delivered
  readonly events: ReadonlyArray<StreamEvent>
  readonly finish: Finish | undefined
}

/** The attempt cannot be used: nothing of it after the last step was handed over. */
export interface Rejected {
  readonly _tag: "Rejected"
  readonly reason: RejectionReason
  readonly detail: string
}

const rejected = (reason: RejectionReason, detail: string): Rejected => ({ _tag: "Rejected", reason, detail })

export const isRejected = (result: Step | Rejected): result is Rejected => "_tag" in result

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff

const verify = (reading: Reading, final: boolean): Verifier.Verdict => {
  if (reading.kind._tag === "Whole") {
    if (reading.held.startsWith(reading.base)) return { _tag: "Accept", skip: reading.base.length }
    return reading.base.startsWith(reading.held) && !final
      ? { _tag: "Pending" }
      : {
          _tag: "Reject",
          reason: "diverged",
          detail: "The fallback answer does not start with the delivered text"
        }
  }
  const minOverlap = reading.kind._tag === "Model" ? reading.kind.minOverlap : 1
  return Verifier.verify(reading.base, reading.held, { final, minOverlap })
}

const tool = (
  delivered: Delivered,
  event: ToolCallDelta,
  replayed: Map<number, string>,
  tools: Map<number, DeliveredTool>
): ToolCallDelta | undefined | Rejected => {
  const previous = replayed.get(event.index) ?? ""
  const args = previous + event.argumentsDelta
  replayed.set(event.index, args)
  const known = tools.get(event.index) ?? delivered.tools.get(event.index)
  const knownArgs = known?.args ?? ""
  const consistent = args.length <= knownArgs.length ? knownArgs.startsWith(args) : args.startsWith(knownArgs)
  if (!consistent) return rejected("diverged", `tool call ${event.index} does not replay what was delivered`)
  const fresh = args.slice(Math.max(knownArgs.length, previous.length))
  const id = event.id !== undefined && known?.id === undefined ? event.id : undefined
  const name = event.name !== undefined && known?.name === undefined ? event.name : undefined
  if (fresh === "" && id === undefined && name === undefined) return undefined
  tools.set(event.index, { id: known?.id ?? id, name: known?.name ?? name, args: knownArgs + fresh })
  return {
    type: "tool-call-delta",
    index: event.index,
    ...(id === undefined ? {} : { id }),
    ...(name === undefined ? {} : { name }),
    argumentsDelta: fresh
  }
}

/**
 * Reads one chunk of model events. Stops at a `finish` (later events of the
 * chunk are ignored): then everything still held is settled, or the attempt
 * is rejected.
 */
export const read = (
  reading: Reading,
  delivered: Delivered,
  chunk: ReadonlyArray<ModelEvent>
): Step | Rejected => {
  // The common case, a token of verified text, passes through as it came: the same event in the same batch.
  const only = chunk.length === 1 ? chunk[0] : undefined
  if (
    only?.type === "text-delta" &&
    only.delta !== "" &&
    !reading.verifying &&
    reading.held === "" &&
    !isHighSurrogate(only.delta.charCodeAt(only.delta.length - 1))
  ) {
    return {
      reading,
      delivered: { text: delivered.text + only.delta, tools: delivered.tools },
      events: chunk as ReadonlyArray<StreamEvent>,
      finish: undefined
    }
  }
  let text = ""
  let emitted = ""
  let held = reading.held
  let verifying = reading.verifying
  let cursor = reading.cursor
  let finish: Finish | undefined
  const events: Array<StreamEvent> = []
  let replayed: Map<number, string> | undefined
  let tools: Map<number, DeliveredTool> | undefined
  const flushText = () => {
    if (text === "") return
    events.push({ type: "text-delta", delta: text })
    emitted += text
    text = ""
  }
  // Appends `out` to the text going out now, keeping back a trailing high surrogate.
  const release = (out: string) => {
    if (out.length > 0 && isHighSurrogate(out.charCodeAt(out.length - 1))) {
      text += out.slice(0, -1)
      held = out.slice(-1)
    } else {
      text += out
      held = ""
    }
  }
  for (const event of chunk) {
    if (event.type === "text-delta") {
      if (!verifying) {
        release(held + event.delta)
        continue
      }
      held += event.delta
      const verdict = verify({ ...reading, held }, false)
      if (verdict._tag === "Reject") return rejected(verdict.reason, verdict.detail)
      if (verdict._tag === "Accept") {
        verifying = false
        release(held.slice(verdict.skip))
      }
    } else if (event.type === "finish") {
      if (verifying) {
        const verdict = verify({ ...reading, held }, true)
        if (verdict._tag !== "Accept") {
          return rejected(verdict._tag === "Reject" ? verdict.reason : "unverifiable", verdict.detail ?? "")
        }
        held = held.slice(verdict.skip)
        verifying = false
      }
      text += held
      held = ""
      finish = event
      break
    } else if (event.type === "checkpoint") {
      cursor = event.cursor
    } else if (event.type === "reasoning-delta") {
      flushText()
      events.push(event)
    } else {
      replayed ??= new Map(reading.replayed)
      tools ??= new Map()
      const out = tool(delivered, event, replayed, tools)
      if (out === undefined) continue
      if ("_tag" in out) return out
      flushText()
      events.push(out)
    }
  }
  flushText()
  const next: Delivered =
    emitted === "" && tools === undefined
      ? delivered
      : {
          text: delivered.text + emitted,
          tools: tools === undefined ? delivered.tools : new Map([...delivered.tools, ...tools])
        }
  if (finish !== undefined) events.push(finish)
  const same =
    held === reading.held &&
    verifying === reading.verifying &&
    cursor === reading.cursor &&
    replayed === undefined
  return {
    reading: same ? reading : { ...reading, held, verifying, cursor, replayed: replayed ?? reading.replayed },
    delivered: next,
    events,
    finish
  }
}
