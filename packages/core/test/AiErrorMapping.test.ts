import { assert, describe, it } from "@effect/vitest"
import * as AiError from "effect/ai/AiError"
import * as Duration from "effect/Duration"
import * as AiErrorMapping from "../src/AiErrorMapping.ts"
import * as ChatError from "../src/ChatError.ts"

const common = {
  provider: "openai",
  model: "gpt-4o-mini",
  message: "it went wrong",
  status: 500,
  requestId: "req_1"
}

/** One of every ChatError, and the reason it must become. */
const chatErrors: ReadonlyArray<readonly [ChatError.ChatError, AiError.AiErrorReason["_tag"]]> = [
  [new ChatError.RateLimited(common), "RateLimitError"],
  [new ChatError.QuotaExceeded(common), "QuotaExhaustedError"],
  [new ChatError.ServerError(common), "InternalProviderError"],
  [new ChatError.Overloaded(common), "InternalProviderError"],
  [new ChatError.ConnectionFailed(common), "NetworkError"],
  [
    new ChatError.Timeout({ ...common, phase: "idle", timeout: Duration.seconds(10) }),
    "InternalProviderError"
  ],
  [
    new ChatError.Timeout({ ...common, phase: "first-token", timeout: Duration.seconds(10) }),
    "InternalProviderError"
  ],
  [new ChatError.Timeout({ ...common, phase: "total", timeout: Duration.seconds(60) }), "UnknownError"],
  [new ChatError.StreamTruncated({ ...common, delivered: "The sea" }), "InternalProviderError"],
  [new ChatError.MalformedResponse(common), "InvalidOutputError"],
  [new ChatError.AuthenticationFailed(common), "AuthenticationError"],
  [new ChatError.PermissionDenied(common), "AuthenticationError"],
  [new ChatError.InvalidRequest({ ...common, issues: [] }), "InvalidRequestError"],
  [new ChatError.NotFound(common), "InvalidRequestError"],
  [new ChatError.ContextLengthExceeded(common), "InvalidRequestError"],
  [new ChatError.ContentFiltered(common), "ContentPolicyError"],
  [
    new ChatError.ContinuationRejected({ ...common, reason: "restarted", delivered: "The sea" }),
    "InvalidOutputError"
  ],
  [new ChatError.CircuitOpen(common), "UnknownError"]
]

const http = (status: number) => ({ response: { status, headers: {} } })

/** One of every AiError reason, and the ChatError it must become. */
const reasons: ReadonlyArray<readonly [AiError.AiErrorReason, ChatError.Tag]> = [
  [new AiError.RateLimitError({}), "RateLimited"],
  [new AiError.QuotaExhaustedError({}), "QuotaExceeded"],
  [new AiError.AuthenticationError({ kind: "InvalidKey" }), "AuthenticationFailed"],
  [new AiError.AuthenticationError({ kind: "InsufficientPermissions" }), "PermissionDenied"],
  [new AiError.ContentPolicyError({ description: "no" }), "ContentFiltered"],
  [new AiError.InvalidRequestError({ parameter: "temperature" }), "InvalidRequest"],
  [new AiError.InternalProviderError({ description: "boom" }), "ServerError"],
  [new AiError.InternalProviderError({ description: "busy", http: http(503) }), "Overloaded"],
  [
    new AiError.NetworkError({ reason: "TransportError", method: "POST", url: "https://x" }),
    "ConnectionFailed"
  ],
  [new AiError.NetworkError({ reason: "InvalidUrlError", method: "POST", url: "x" }), "InvalidRequest"],
  [new AiError.InvalidResponseError({ description: "not JSON" }), "MalformedResponse"],
  [new AiError.InvalidOutputError({ description: "bad part" }), "MalformedResponse"],
  [new AiError.StructuredOutputError({ description: "bad", responseText: "{" }), "MalformedResponse"],
  [new AiError.UnsupportedSchemaError({ description: "union" }), "InvalidRequest"],
  [new AiError.UnknownError({ description: "?" }), "InvalidRequest"],
  [new AiError.UnknownError({ description: "no such model", http: http(404) }), "NotFound"],
  [new AiError.ToolNotFoundError({ toolName: "x", availableTools: [] }), "MalformedResponse"],
  [new AiError.ToolParameterValidationError({ toolName: "x", description: "bad" }), "MalformedResponse"],
  [new AiError.InvalidToolResultError({ toolName: "x", description: "bad" }), "InvalidRequest"],
  [
    new AiError.ToolResultEncodingError({ toolName: "x", toolResult: 1n, description: "bad" }),
    "InvalidRequest"
  ],
  [new AiError.ToolConfigurationError({ toolName: "x", description: "bad" }), "InvalidRequest"],
  [new AiError.ToolkitRequiredError({ pendingApprovals: [] }), "InvalidRequest"],
  [new AiError.InvalidUserInputError({ description: "video" }), "InvalidRequest"]
]

const source = { provider: "effect-ai", model: "m" }
const raise = (reason: AiError.AiErrorReason) =>
  AiError.make({ module: "Provider", method: "streamText", reason })

describe("AiErrorMapping", () => {
  describe("toReason", () => {
    it("covers every ChatError", () => {
      assert.deepStrictEqual(
        new Set(chatErrors.map(([error]) => error._tag)),
        new Set(ChatError.ChatError.members.map((member) => member.identifier))
      )
    })

    it("gives each ChatError its reason, as retryable as it was", () => {
      for (const [error, tag] of chatErrors) {
        const reason = AiErrorMapping.toReason(error)
        assert.strictEqual(reason._tag, tag, error._tag)
        assert.strictEqual(reason.isRetryable, error.isRetryable, error._tag)
      }
    })

    it("keeps the tag, status and request id in the metadata, and the ChatError as a NetworkError's cause", () => {
      const reason = AiErrorMapping.toReason(new ChatError.Overloaded(common))
      assert.deepStrictEqual("metadata" in reason && reason.metadata, {
        steadystream: {
          tag: "Overloaded",
          provider: "openai",
          model: "gpt-4o-mini",
          status: 500,
          requestId: "req_1"
        }
      })
      const connection = new ChatError.ConnectionFailed(common)
      const network = AiErrorMapping.toReason(connection)
      assert.strictEqual(network._tag === "NetworkError" && network.cause, connection)
    })

    it("turns any retryable error with a Retry-After into a RateLimitError carrying it", () => {
      for (const error of [
        new ChatError.RateLimited({ ...common, retryAfter: Duration.seconds(3) }),
        new ChatError.Overloaded({ ...common, retryAfter: Duration.seconds(3) })
      ]) {
        const aiError = AiErrorMapping.toAiError(error, "ResilientLanguageModel", "streamText")
        assert.strictEqual(aiError.reason._tag, "RateLimitError")
        assert.isTrue(aiError.isRetryable)
        assert.strictEqual(Duration.toMillis(aiError.retryAfter!), 3000)
        assert.strictEqual(aiError.module, "ResilientLanguageModel")
        assert.strictEqual(aiError.method, "streamText")
      }
    })

    it("keeps a non-retryable error non-retryable, with its Retry-After in the metadata only", () => {
      const aiError = AiErrorMapping.toAiError(
        new ChatError.CircuitOpen({ ...common, retryAfter: Duration.seconds(30) }),
        "ResilientLanguageModel",
        "generateText"
      )
      assert.strictEqual(aiError.reason._tag, "UnknownError")
      assert.isFalse(aiError.isRetryable)
      assert.isUndefined(aiError.retryAfter)
      assert.deepInclude(aiError.reason._tag === "UnknownError" && aiError.reason.metadata.steadystream, {
        tag: "CircuitOpen",
        retryAfterMillis: 30_000
      })
    })

    it("describes a refusal with the model's own words", () => {
      const reason = AiErrorMapping.toReason(
        new ChatError.ContentFiltered({ ...common, refusal: "I can't help." })
      )
      assert.strictEqual(reason._tag === "ContentPolicyError" && reason.description, "I can't help.")
    })
  })

  describe("fromAiError", () => {
    it("covers every reason", () => {
      assert.deepStrictEqual(
        new Set(reasons.map(([reason]) => reason._tag)),
        new Set(AiError.AiErrorReason.members.map((member) => member.identifier.split("/").at(-1)))
      )
    })

    it("gives each reason its ChatError, as retryable as it was (but an unreadable response is retried)", () => {
      for (const [reason, tag] of reasons) {
        const error = AiErrorMapping.fromAiError(raise(reason), source)
        assert.strictEqual(error._tag, tag, reason._tag)
        assert.strictEqual(
          error.isRetryable,
          reason._tag === "InvalidResponseError" || reason.isRetryable,
          reason._tag
        )
        assert.strictEqual(error.provider, "effect-ai")
        assert.strictEqual(error.message, raise(reason).message)
      }
    })

    it("keeps the Retry-After and the HTTP status", () => {
      const limited = AiErrorMapping.fromAiError(
        raise(new AiError.RateLimitError({ retryAfter: Duration.seconds(2) })),
        source
      )
      assert.strictEqual(Duration.toMillis(limited.retryAfter!), 2000)
      const busy = AiErrorMapping.fromAiError(
        raise(new AiError.InternalProviderError({ description: "busy", http: http(529) })),
        source
      )
      assert.strictEqual(busy.status, 529)
    })
  })
})
