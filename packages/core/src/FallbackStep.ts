/**
 * The fallback chain of a `ResilientChat`: what to try, in order, once the
 * retries of the primary streaming call are spent or skipped.
 *
 * @since 0.1.0
 */
import type * as Layer from "effect/Layer"
import type { ChatCompletion } from "./ChatCompletion.ts"
import type { ChatModel, Service as ChatModelService } from "./ChatModel.ts"

/**
 * One step of the fallback chain.
 *
 * - `NonStreaming`: the same model, called with `complete` instead of `stream`.
 * - `Model`: the same `ChatModel`, another `model` name (streamed by default).
 * - `ChatModel`: another provider, given as a service or a layer.
 * - `Cached`: the last successful answer to an identical request.
 * - `Static`: a fixed answer.
 *
 * @since 0.1.0
 */
export type FallbackStep =
  | { readonly _tag: "NonStreaming" }
  | { readonly _tag: "Model"; readonly model: string; readonly streaming: boolean }
  | {
      readonly _tag: "ChatModel"
      readonly name: string
      readonly chatModel: ChatModelService | Layer.Layer<ChatModel>
      readonly model: string | undefined
      readonly streaming: boolean
    }
  | { readonly _tag: "Cached" }
  | { readonly _tag: "Static"; readonly completion: ChatCompletion }

/**
 * Call the same model again without streaming. The default fallback chain is
 * `[nonStreaming]`.
 *
 * **Gotchas**
 *
 * A non-streaming call has no first-token or idle deadline (nothing arrives
 * until the whole answer does): only the `total` deadline bounds it.
 *
 * @since 0.1.0
 */
export const nonStreaming: FallbackStep = { _tag: "NonStreaming" }

/**
 * Use another model of the same provider (same `ChatModel`), streamed unless
 * `streaming: false`.
 *
 * @since 0.1.0
 */
export const model = (model: string, options: { readonly streaming?: boolean } = {}): FallbackStep => ({
  _tag: "Model",
  model,
  streaming: options.streaming ?? true
})

/**
 * Use another provider: a `ChatModel` service, or a layer that builds one
 * (built once, with the `ResilientChat` layer). `model` replaces the
 * request's model name (default: keep it).
 *
 * **Gotchas**
 *
 * `name` is what the `fallback` event and the circuit breaker key show; give
 * every provider a distinct one.
 *
 * @since 0.1.0
 */
export const chatModel = (
  name: string,
  chatModel: ChatModelService | Layer.Layer<ChatModel>,
  options: { readonly model?: string; readonly streaming?: boolean } = {}
): FallbackStep => ({
  _tag: "ChatModel",
  name,
  chatModel,
  model: options.model,
  streaming: options.streaming ?? true
})

/**
 * Serve the last successful answer to an identical request from the
 * response cache. Adding this step is what turns caching on: successful
 * answers are stored only when the chain contains it.
 *
 * **Gotchas**
 *
 * A miss fails the step with `NotFound` (provider `"cache"`), and the chain
 * moves on.
 *
 * @since 0.1.0
 */
export const cached: FallbackStep = { _tag: "Cached" }

/**
 * Answer with a fixed text (or completion): the last resort that never fails
 * on a fresh request.
 *
 * **Gotchas**
 *
 * After part of an answer was delivered, a static answer is only used when it
 * starts with the delivered text; otherwise the step fails with
 * `StreamTruncated` rather than append incoherent text.
 *
 * @since 0.1.0
 */
export const staticAnswer = (answer: string | ChatCompletion): FallbackStep => ({
  _tag: "Static",
  completion: typeof answer === "string" ? { text: answer, finishReason: "stop" } : answer
})

/**
 * The name a `fallback` event shows for a step: `"non-streaming"`,
 * `"model:<name>"`, `"chat-model:<name>"`, `"cached"` or `"static"`.
 *
 * @since 0.1.0
 */
export const name = (step: FallbackStep): string => {
  switch (step._tag) {
    case "NonStreaming":
      return "non-streaming"
    case "Model":
      return `model:${step.model}`
    case "ChatModel":
      return `chat-model:${step.name}`
    case "Cached":
      return "cached"
    case "Static":
      return "static"
  }
}
