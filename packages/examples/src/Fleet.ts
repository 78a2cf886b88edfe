/**
 * What `serve --redis <url>` shares with the other instances on that Redis:
 * the resilient chat's breakers, rate-limit cooldowns and cache
 * (`ResilientChat.layerRedis`), and the answers (`RedisAnswerStore`), so any
 * instance resumes or finishes any answer. Without a URL everything stays in
 * this process's memory.
 */
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import { type ChatModel, type ResiliencePolicy, ResilientChat } from "@steadystream/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redis from "effect/persistence/Redis"
import type * as Scope from "effect/Scope"
import type * as AnswerStore from "./AnswerStore.ts"
import * as RedisAnswerStore from "./RedisAnswerStore.ts"

export interface Fleet {
  readonly chat: Layer.Layer<ResilientChat.ResilientChat, never, ChatModel.ChatModel>
  /** Undefined: answers in memory. */
  readonly store: AnswerStore.AnswerStore | undefined
}

/**
 * Connects to Redis at `url` (when given) for the scope.
 *
 * **Details**
 *
 * While Redis is down, commands fail at once (`disableOfflineQueue`) rather
 * than queue: the chat falls back to local state, and answers stop until it
 * is back (readers then take them over). The connection pool holds one
 * connection per waiting reader, up to 256.
 */
export const make = (
  url: string | undefined,
  policy: ResiliencePolicy.ResiliencePolicy
): Effect.Effect<Fleet, Redis.RedisError, Scope.Scope> =>
  Effect.gen(function* () {
    if (url === undefined) return { chat: ResilientChat.layer(policy), store: undefined }
    const redis = yield* Layer.build(NodeRedis.layer({ url, disableOfflineQueue: true, maxConnections: 256 }))
    return {
      chat: ResilientChat.layerRedis(policy).pipe(Layer.provide(Layer.succeedContext(redis))),
      store: yield* RedisAnswerStore.make().pipe(
        Effect.provideService(Redis.Redis, Context.get(redis, Redis.Redis))
      )
    }
  })
