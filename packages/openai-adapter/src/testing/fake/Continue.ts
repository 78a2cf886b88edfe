/**
 * What the fake server answers to a continuation request, the ways real
 * models do: the exact rest, or the rest after a preamble or an echo of the
 * prefix's tail, a restart in other words, a replay from the start, or a
 * native continuation that holds only when the request asks for it. Pure.
 *
 * Part of `FakeOpenAiServer`; not re-exported from `/testing`.
 *
 * @since 0.2.0
 */
import type * as Step from "./Step.ts"
import * as Texts from "./Texts.ts"

/**
 * A continuation request as the planner sees it.
 *
 * @since 0.2.0
 */
export interface Request {
  /** The assistant prefix (the delivered text). */
  readonly prefix: string
  /** The request's other message texts (the instruction among them). */
  readonly instructions: ReadonlyArray<string>
  /** The raw request body (for the native fields). */
  readonly body: unknown
}

/**
 * The answer text to a continuation request, or the 400 a vLLM-like server
 * gives for contradictory flags.
 *
 * @since 0.2.0
 */
export type Answer =
  | { readonly _tag: "Text"; readonly text: string }
  | { readonly _tag: "Invalid"; readonly error: Step.ErrorBody }

const wordChar = /[\p{L}\p{N}\p{M}]/u

/** The prefix from the start of its last word ("…about sev" → "sev", "…about " → "about "). */
export const cutWord = (prefix: string): string => {
  let end = prefix.length
  while (end > 0 && !wordChar.test(prefix[end - 1] as string)) end--
  let start = end
  while (start > 0 && wordChar.test(prefix[start - 1] as string)) start--
  return prefix.slice(start)
}

/** The prefix's last sentence: the one it breaks in, else the last complete one. */
export const lastSentence = (prefix: string): string => {
  const starts = [0, ...Array.from(prefix.matchAll(/[.!?]["')\]]*\s+/g), (m) => m.index + m[0].length)]
  for (let i = starts.length - 1; i >= 0; i--) {
    const sentence = prefix.slice(starts[i])
    if (sentence.trim() !== "") return sentence
  }
  return prefix
}

/**
 * The anchor an instruction asks the model to repeat: the longest quoted
 * (JSON) string in it that the prefix ends with; else the prefix's last ~40
 * characters, starting at a word.
 */
export const anchorOf = (prefix: string, instructions: ReadonlyArray<string>): string => {
  let found = ""
  for (const instruction of instructions) {
    for (const match of instruction.matchAll(/"(?:[^"\\]|\\.)*"/g)) {
      const quoted = parseString(match[0])
      if (quoted !== undefined && quoted.length > found.length && prefix.endsWith(quoted)) found = quoted
    }
  }
  if (found !== "") return found
  const tail = prefix.slice(-40)
  const start = tail.search(/(?<=\s)\S/u)
  return (start > 0 && prefix.length > 40 ? tail.slice(start) : tail).trimStart()
}

const parseString = (json: string): string | undefined => {
  try {
    const value: unknown = JSON.parse(json)
    return typeof value === "string" ? value : undefined
  } catch {
    return undefined
  }
}

const echoOf = (echo: Step.Echo, request: Request): string => {
  switch (echo) {
    case "cut-word":
      return cutWord(request.prefix)
    case "last-sentence":
      return lastSentence(request.prefix)
    case "anchor":
      return anchorOf(request.prefix, request.instructions)
  }
}

/** Whether the request carries `field` as a native continuation; `Invalid` for vLLM's contradictory flags. */
const native = (field: Step.NativeField, body: unknown): boolean | Step.ErrorBody => {
  const record = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>
  if (field === "prefix") {
    const messages = Array.isArray(record.messages) ? record.messages : []
    return (messages[messages.length - 1] as { readonly prefix?: unknown } | undefined)?.prefix === true
  }
  if (record.continue_final_message !== true) return false
  if (record.add_generation_prompt === false) return true
  return {
    message: "Cannot set both `continue_final_message` and `add_generation_prompt` to True.",
    type: "BadRequestError",
    param: null,
    code: null
  }
}

/**
 * The answer to a continuation request for `style`, where `rest` is what
 * follows the prefix in the scripted text and `full` that whole text.
 * `overlap` is the scripted overlap, used when `Continue` sets no `echo` and
 * by an honoured `Native` continuation.
 *
 * @since 0.2.0
 */
export const answer = (
  style: Step.Continuation,
  request: Request,
  texts: { readonly full: string; readonly rest: string; readonly overlap: string }
): Answer => {
  switch (style._tag) {
    case "Continue": {
      const echo = style.echo === undefined ? texts.overlap : echoOf(style.echo, request)
      return { _tag: "Text", text: (style.preamble ?? "") + echo + texts.rest }
    }
    case "Restart":
      return { _tag: "Text", text: style.text ?? Texts.restartText }
    case "Replay":
      return { _tag: "Text", text: texts.full }
    case "Native": {
      const honoured = native(style.field, request.body)
      if (typeof honoured === "object") return { _tag: "Invalid", error: honoured }
      return honoured
        ? { _tag: "Text", text: texts.overlap + texts.rest }
        : { _tag: "Text", text: Texts.restartText }
    }
  }
}
