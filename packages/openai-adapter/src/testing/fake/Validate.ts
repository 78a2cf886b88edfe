/**
 * Checks a chat-completions request body the way OpenAI does before it
 * answers: a JSON object with a `model` string and a non-empty `messages`
 * array of `{ role, content }`. The first problem found is an
 * `invalid_request_error` naming the field in `param`, worded as OpenAI
 * words it.
 *
 * Part of `FakeOpenAiServer`; not re-exported from `/testing`.
 *
 * @since 0.1.0
 */
import * as ErrorBodies from "./ErrorBodies.ts"
import type * as Step from "./Step.ts"

const roles = ["system", "developer", "user", "assistant", "tool", "function"]

const typeName = (value: unknown): string => {
  if (value === null) return "null"
  if (Array.isArray(value)) return "an array"
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a decimal"
  if (typeof value === "object") return "an object"
  return `a ${typeof value}`
}

const invalid = (param: string | null, code: string, message: string): Step.ErrorBody => ({
  message,
  type: "invalid_request_error",
  param,
  code
})

const missing = (param: string) =>
  invalid(param, "missing_required_parameter", `Missing required parameter: '${param}'.`)

const wrongType = (param: string, expected: string, got: unknown) =>
  invalid(
    param,
    "invalid_type",
    `Invalid type for '${param}': expected ${expected}, but got ${typeName(got)} instead.`
  )

const isObject = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const checkMessage = (message: unknown, at: string): Step.ErrorBody | undefined => {
  if (!isObject(message)) return wrongType(at, "an object", message)
  const { role, content } = message
  if (role === undefined) return missing(`${at}.role`)
  if (typeof role !== "string") return wrongType(`${at}.role`, "a string", role)
  if (!roles.includes(role)) {
    return invalid(
      `${at}.role`,
      "invalid_value",
      `Invalid value: '${role}'. Supported values are: ${roles.map((r) => `'${r}'`).join(", ")}.`
    )
  }
  // An assistant message may carry tool calls instead of content.
  if (content === undefined || content === null)
    return role === "assistant" ? undefined : missing(`${at}.content`)
  if (typeof content !== "string" && !Array.isArray(content)) {
    return wrongType(`${at}.content`, "one of a string or array of objects", content)
  }
  return undefined
}

/**
 * The error body a chat-completions request deserves, or `undefined` when it
 * is valid. `body` is the parsed JSON (`undefined` when it was not JSON).
 *
 * **Gotchas**
 *
 * Only what the fake reads is checked: sampling options, tools and the rest
 * are accepted as they come.
 *
 * @since 0.1.0
 */
export const chatRequest = (body: unknown): Step.ErrorBody | undefined => {
  if (body === undefined) return ErrorBodies.unparseableJson
  if (!isObject(body)) {
    return invalid(
      null,
      "invalid_type",
      `Invalid body: expected a JSON object, but got ${typeName(body)} instead.`
    )
  }
  const { model, messages } = body
  if (model === undefined || model === "") return missing("model")
  if (typeof model !== "string") return wrongType("model", "a string", model)
  if (messages === undefined) return missing("messages")
  if (!Array.isArray(messages)) return wrongType("messages", "an array", messages)
  if (messages.length === 0) {
    return invalid(
      "messages",
      "empty_array",
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead."
    )
  }
  for (let i = 0; i < messages.length; i++) {
    const problem = checkMessage(messages[i], `messages[${i}]`)
    if (problem !== undefined) return problem
  }
  return undefined
}
