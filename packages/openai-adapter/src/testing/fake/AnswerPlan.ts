/**
 * What the fake server says for one answer, decided from the request and the
 * scripted step: continuation detection, deterministic chunking, overlap,
 * tool-call pieces and usage. Pure.
 *
 * Part of `FakeOpenAiServer`; not re-exported from `/testing`.
 *
 * @since 0.1.0
 */
import { ChatRequest } from "@steadystream/core"
import * as Continue from "./Continue.ts"
import type * as Step from "./Step.ts"
import * as Texts from "./Texts.ts"

/** One content chunk's `delta`. */
export type Delta =
  | { readonly content: string }
  | { readonly refusal: string }
  | {
      readonly tool_calls: ReadonlyArray<{
        readonly index: number
        readonly id?: string
        readonly type?: "function"
        readonly function: { readonly name?: string; readonly arguments: string }
      }>
    }

/** A planned reasoning phase: its pieces go out under `field` before the content. */
export interface ReasoningPlan {
  readonly field: "reasoning_content" | "reasoning"
  readonly pieces: ReadonlyArray<string>
  readonly text: string
}

/** The planned answer. */
export interface Plan {
  readonly deltas: ReadonlyArray<Delta>
  /** The whole text these deltas carry (including any scripted overlap); empty for a refusal. */
  readonly text: string
  readonly reasoning: ReasoningPlan | undefined
  /** The refusal the deltas carry instead of text. */
  readonly refusal: string | undefined
  /** The request cannot be answered (vLLM's contradictory continuation flags): a 400 with this body. */
  readonly invalid: Step.ErrorBody | undefined
  readonly finishReason: "stop" | "length" | "content_filter" | "tool_calls"
  readonly toolCalls: ReadonlyArray<Step.ToolCall>
  readonly usage: {
    readonly prompt_tokens: number
    readonly completion_tokens: number
    readonly total_tokens: number
  }
  /** The assistant prefix when this was answered as a continuation. */
  readonly continuedFrom: string | undefined
}

/** A request message, its content flattened to text. */
export interface Message {
  readonly role: string
  readonly content: string
}

/** A wire message's role and its content flattened to text (text parts joined). */
const toMessage = (message: unknown): Message => {
  const { role, content } = (typeof message === "object" && message !== null ? message : {}) as {
    readonly role?: unknown
    readonly content?: unknown
  }
  return { role: typeof role === "string" ? role : "", content: textOf(content) }
}

const textOf = (content: unknown): string => {
  if (typeof content === "string") return content
  if (!Array.isArray(content)) return ""
  return content
    .map((part: unknown) =>
      typeof part === "object" && part !== null && typeof (part as { text?: unknown }).text === "string"
        ? (part as { text: string }).text
        : ""
    )
    .join("")
}

/**
 * The assistant prefix of a continuation request: the last message when it
 * is an assistant message, or the one before a trailing user/system
 * instruction (`ChatRequest.assistantPrefix` of the messages without it).
 */
export const continuationPrefix = (messages: ReadonlyArray<Message>): string | undefined => {
  const prefix = ChatRequest.assistantPrefix({ messages })
  if (prefix !== undefined) return prefix
  const last = messages[messages.length - 1]
  return last?.role === "user" || last?.role === "system"
    ? ChatRequest.assistantPrefix({ messages: messages.slice(0, -1) })
    : undefined
}

const words = /\S+\s*|\s+/g

/** Splits by word (each word with its trailing whitespace) or by `size` code points. */
export const chunkText = (text: string, size?: number): Array<string> => {
  if (text.length === 0) return []
  if (size !== undefined && size > 0) {
    const points = Array.from(text)
    const out: Array<string> = []
    for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(""))
    return out
  }
  return text.match(words) ?? [text]
}

const overlapOf = (prefix: string, overlap: Step.Answer["overlap"]): string => {
  if (overlap === undefined) return ""
  if ("chars" in overlap) {
    const points = Array.from(prefix)
    return overlap.chars <= 0 ? "" : points.slice(-overlap.chars).join("")
  }
  if (overlap.words <= 0) return ""
  const starts: Array<number> = []
  for (const match of prefix.matchAll(/\S+/g)) starts.push(match.index)
  const start = starts[Math.max(0, starts.length - overlap.words)]
  return start === undefined ? "" : prefix.slice(start)
}

const argumentPieces = (args: string): Array<string> => {
  const out: Array<string> = []
  for (let i = 0; i < args.length; i += 8) out.push(args.slice(i, i + 8))
  return out
}

const countWords = (text: string): number => text.match(/\S+/g)?.length ?? 0

const defaultContinuation: Step.Continuation = { _tag: "Continue" }

/** The text answering `messages`: the scripted text, or the step's answer to a continuation request. */
const answerText = (
  body: unknown,
  messages: ReadonlyArray<Message>,
  step: Step.Answer,
  full: string
): { readonly text: string; readonly continuedFrom?: string; readonly invalid?: Step.ErrorBody } => {
  const prefix = continuationPrefix(messages)
  if (prefix === undefined || prefix.length === 0 || !full.startsWith(prefix)) return { text: full }
  const instructions = messages.filter((message) => message.role !== "assistant").map((m) => m.content)
  const answer = Continue.answer(
    step.continuation ?? defaultContinuation,
    { prefix, instructions, body },
    { full, rest: full.slice(prefix.length), overlap: overlapOf(prefix, step.overlap) }
  )
  return answer._tag === "Invalid"
    ? { text: "", invalid: answer.error }
    : { text: answer.text, continuedFrom: prefix }
}

const reasoningPlan = (reasoning: Step.Reasoning | undefined): ReasoningPlan | undefined => {
  if (reasoning === undefined) return undefined
  const text = reasoning.text ?? Texts.reasoningText
  return { field: reasoning.field ?? "reasoning_content", pieces: chunkText(text), text }
}

/** Plans the answer to a request body for an `Answer` step. */
export const plan = (body: unknown, step: Step.Answer, defaultText: string): Plan => {
  const wire = (body as { messages?: unknown } | undefined)?.messages
  const messages = Array.isArray(wire) ? wire.map(toMessage) : []
  const answered = answerText(body, messages, step, step.text ?? defaultText)
  const refusal = step.refusal
  const text = refusal === undefined ? answered.text : ""
  const deltas: Array<Delta> =
    refusal === undefined
      ? chunkText(text, step.chunkChars).map((content) => ({ content }))
      : chunkText(refusal).map((piece) => ({ refusal: piece }))
  const toolCalls = step.toolCalls ?? []
  toolCalls.forEach((call, index) => {
    deltas.push({
      tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }]
    })
    for (const piece of argumentPieces(call.arguments)) {
      deltas.push({ tool_calls: [{ index, function: { arguments: piece } }] })
    }
  })
  const prompt = messages.reduce((n, message) => n + countWords(message.content), 0)
  return {
    deltas,
    text,
    reasoning: reasoningPlan(step.reasoning),
    refusal,
    invalid: answered.invalid,
    finishReason: step.finishReason ?? (toolCalls.length > 0 && text.length === 0 ? "tool_calls" : "stop"),
    toolCalls,
    usage: { prompt_tokens: prompt, completion_tokens: deltas.length, total_tokens: prompt + deltas.length },
    continuedFrom: answered.continuedFrom
  }
}
