/**
 * What an application asks a model for: the model, the conversation and the
 * sampling options. Validated with its schema before any call is made.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import { InvalidRequest } from "./ChatError.ts"

/**
 * Who wrote a message.
 *
 * @since 0.1.0
 */
export const Role = Schema.Literals(["system", "user", "assistant", "tool"])

/**
 * @since 0.1.0
 */
export type Role = typeof Role.Type

/**
 * One message of the conversation. `toolCallId` answers a tool call (role
 * `tool`).
 *
 * @since 0.1.0
 */
export const ChatMessage = Schema.Struct({
  role: Role,
  content: Schema.String,
  name: Schema.optionalKey(Schema.String),
  toolCallId: Schema.optionalKey(Schema.String)
})

/**
 * @since 0.1.0
 */
export type ChatMessage = typeof ChatMessage.Type

/**
 * A function the model may call; `parameters` is a JSON Schema object.
 *
 * @since 0.1.0
 */
export const Tool = Schema.Struct({
  name: Schema.NonEmptyString,
  description: Schema.optionalKey(Schema.String),
  parameters: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown))
})

/**
 * @since 0.1.0
 */
export type Tool = typeof Tool.Type

/**
 * A chat request. `messages` must not be empty; `temperature` is in [0, 2],
 * `topP` in [0, 1], `maxTokens` a positive integer.
 *
 * @since 0.1.0
 */
export const ChatRequest = Schema.Struct({
  model: Schema.NonEmptyString,
  messages: Schema.Array(ChatMessage).check(Schema.isMinLength(1)),
  temperature: Schema.optionalKey(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 2 }))),
  topP: Schema.optionalKey(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))),
  maxTokens: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  stop: Schema.optionalKey(Schema.Array(Schema.String)),
  tools: Schema.optionalKey(Schema.Array(Tool)),
  user: Schema.optionalKey(Schema.String)
})

/**
 * @since 0.1.0
 */
export type ChatRequest = typeof ChatRequest.Type

const decode = Schema.decodeUnknownEffect(ChatRequest)
const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/**
 * Validates unknown input as a {@link ChatRequest}.
 *
 * **Details**
 *
 * A request that fails validation is an `InvalidRequest` error listing each
 * offending path and what is wrong with it, never a defect. `provider` names
 * who validated it in the error (default `"steadystream"`).
 *
 * **Example**
 *
 * ```ts
 * const request = yield* ChatRequest.validate({ model: "gpt-4o-mini", messages: [] })
 * // fails with InvalidRequest { issues: [{ path: ["messages"], message: "Expected a value with a length of at least 1, got []" }] }
 * ```
 *
 * @since 0.1.0
 */
export const validate = (
  input: unknown,
  provider = "steadystream"
): Effect.Effect<ChatRequest, InvalidRequest> =>
  decode(input).pipe(
    Effect.catchTag("SchemaError", (error) => {
      const issues = formatter(error.issue).issues.map((issue) => ({
        path: (issue.path ?? []).map((key) =>
          typeof key === "object" && key !== null && "key" in key ? normaliseKey(key.key) : normaliseKey(key)
        ),
        message: issue.message
      }))
      const model =
        typeof (input as { model?: unknown })?.model === "string" ? (input as { model: string }).model : ""
      return Effect.fail(
        new InvalidRequest({
          provider,
          model,
          message: `Invalid chat request: ${issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`,
          issues
        })
      )
    })
  )

const normaliseKey = (key: PropertyKey): string | number => (typeof key === "symbol" ? key.toString() : key)

/**
 * The text of the last message when it is an assistant message: the prefix a
 * continuation request asks the model to carry on from.
 *
 * **Details**
 *
 * This is the one rule for spotting a continuation request. It takes
 * anything with `messages` of `{ role, content }` text, so a request still
 * in its wire form (an OpenAI body whose content is flattened to text) is
 * read the same way as a `ChatRequest`.
 *
 * @since 0.1.0
 */
export const assistantPrefix = (request: {
  readonly messages: ReadonlyArray<{ readonly role: string; readonly content: string }>
}): string | undefined => {
  const last = request.messages[request.messages.length - 1]
  return last?.role === "assistant" ? last.content : undefined
}
