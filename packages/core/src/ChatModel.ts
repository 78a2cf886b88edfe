/**
 * The provider port: the one thing an adapter implements.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { ChatCompletion } from "./ChatCompletion.ts"
import type { ChatError } from "./ChatError.ts"
import type { ChatRequest } from "./ChatRequest.ts"
import type { ModelEvent, ResumeCursor } from "./ModelEvent.ts"

/**
 * How a target continues a final assistant message (a continuation request
 * after a mid-stream failure ends with the delivered text as an assistant
 * message):
 *
 * - `"instruction"`: the server has no native continuation (OpenAI Chat
 *   Completions): the request also carries an instruction to continue, and
 *   the model is asked to start by repeating an anchor of the delivered tail.
 * - `"native"`: the server continues the final assistant message itself
 *   (vLLM, SGLang, llama.cpp `continue_final_message`, DeepSeek/Mistral
 *   `prefix: true`); the adapter sends the server's own field.
 *
 * Either way `ResilientChat` verifies the continuation before emitting any of
 * it.
 *
 * @since 0.2.0
 */
export type ContinuationMode = "native" | "instruction"

/**
 * A target that can pick up the same generation after a broken stream (the
 * Responses API in background mode): no second generation, no prompt.
 *
 * **Details**
 *
 * The target's `stream` emits `checkpoint` events; `resume` streams the
 * events after a checkpoint's cursor (and may emit further checkpoints);
 * `cancel` stops a generation nobody will read any more (best effort; it
 * never fails).
 *
 * @since 0.2.0
 */
export interface Resumable {
  readonly resume: (cursor: ResumeCursor, request: ChatRequest) => Stream.Stream<ModelEvent, ChatError>
  readonly cancel: (cursor: ResumeCursor) => Effect.Effect<void>
}

/**
 * The shape of a provider adapter.
 *
 * **Details**
 *
 * `stream` emits content events and ends with exactly one `finish` event on
 * success; any other end (a truncated body, a broken connection, an in-band
 * error) is a typed `ChatError`. `complete` makes the same call without
 * streaming.
 *
 * **Gotchas**
 *
 * Adapters only translate. They never retry, time out or fall back: that is
 * `ResilientChat`'s job, and doing it twice multiplies attempts.
 *
 * @since 0.1.0
 */
export interface Service {
  /** The provider's name, e.g. `"openai"`; used in errors, logs and metrics. */
  readonly provider: string
  readonly stream: (request: ChatRequest) => Stream.Stream<ModelEvent, ChatError>
  readonly complete: (request: ChatRequest) => Effect.Effect<ChatCompletion, ChatError>
  /** How the target continues a final assistant message. Default `"instruction"`. */
  readonly continuation?: ContinuationMode
  /** Present when the target can resume a broken stream from a cursor (true resume). */
  readonly resumable?: Resumable
}

/**
 * The provider port as a service key. Swap its layer to change provider, or
 * to use `ScriptedChatModel` in tests.
 *
 * @since 0.1.0
 */
export class ChatModel extends Context.Service<ChatModel, Service>()("@steadystream/core/ChatModel") {}

/**
 * Any `effect/ai` `LanguageModel` as a `ChatModel`, e.g. a fallback target
 * (`LanguageModelChatModel.fromLanguageModel`).
 *
 * @since 0.2.0
 */
export { fromLanguageModel } from "./LanguageModelChatModel.ts"
