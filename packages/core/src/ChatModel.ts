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
import type { ModelEvent } from "./ModelEvent.ts"

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
}

/**
 * The provider port as a service key. Swap its layer to change provider, or
 * to use `ScriptedChatModel` in tests.
 *
 * @since 0.1.0
 */
export class ChatModel extends Context.Service<ChatModel, Service>()("@steadystream/core/ChatModel") {}
