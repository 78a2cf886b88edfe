/**
 * A cheap shape check of a parsed `chat.completion.chunk`: every field the
 * mapper (`chunks.ts`) reads has the type it expects, so a chunk of the
 * wrong shape is a `MalformedResponse` instead of a `TypeError` deep in the
 * mapper. It runs once per token: a few `typeof` checks, nothing allocated
 * unless the chunk is wrong.
 *
 * @internal
 */

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const isNullish = (value: unknown): value is null | undefined => value === undefined || value === null

/** Absent, `null` or a string. */
const isText = (value: unknown): boolean => isNullish(value) || typeof value === "string"

const toolCallProblem = (call: unknown): string | undefined => {
  if (!isRecord(call)) return " is not an object"
  if (typeof call.index !== "number") return ".index is not a number"
  if (!isText(call.id)) return ".id is not a string"
  const fn = call.function
  if (isNullish(fn)) return undefined
  if (!isRecord(fn)) return ".function is not an object"
  if (!isText(fn.name)) return ".function.name is not a string"
  if (!isText(fn.arguments)) return ".function.arguments is not a string"
  return undefined
}

const choiceProblem = (choice: unknown): string | undefined => {
  if (!isRecord(choice)) return " is not an object"
  if (!isText(choice.finish_reason)) return ".finish_reason is not a string"
  const delta = choice.delta
  // Azure's content-filter annotations come as choices without a delta.
  if (isNullish(delta)) return undefined
  if (!isRecord(delta)) return ".delta is not an object"
  if (!isText(delta.content)) return ".delta.content is not a string"
  if (!isText(delta.refusal)) return ".delta.refusal is not a string"
  if (!isText(delta.reasoning_content)) return ".delta.reasoning_content is not a string"
  if (!isText(delta.reasoning)) return ".delta.reasoning is not a string"
  const calls = delta.tool_calls
  if (isNullish(calls)) return undefined
  if (!Array.isArray(calls)) return ".delta.tool_calls is not an array"
  for (let i = 0; i < calls.length; i++) {
    const problem = toolCallProblem(calls[i])
    if (problem !== undefined) return `.delta.tool_calls[${i}]${problem}`
  }
  return undefined
}

/**
 * What is wrong with the shape of a parsed chunk, or `undefined` when the
 * mapper can read it.
 *
 * **Details**
 *
 * `choices` must be an array, but may be empty: Azure sends
 * `prompt_filter_results` in a first chunk with `choices: []`, and the
 * `include_usage` chunk has none. A choice may lack `delta` (Azure's filter
 * annotations). Optional fields may be absent or `null`. Fields the mapper
 * does not read are not checked: OpenRouter's `provider` and
 * `reasoning_details`, Azure's `content_filter_results` pass as they are.
 */
export const problem = (chunk: unknown): string | undefined => {
  if (!isRecord(chunk)) return "the chunk is not an object"
  const choices = chunk.choices
  if (!Array.isArray(choices)) return "choices is not an array"
  for (let i = 0; i < choices.length; i++) {
    const found = choiceProblem(choices[i])
    if (found !== undefined) return `choices[${i}]${found}`
  }
  if (!isNullish(chunk.usage) && !isRecord(chunk.usage)) return "usage is not an object"
  return undefined
}
