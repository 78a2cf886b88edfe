import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as ChatCompletion from "../src/ChatCompletion.ts"
import * as ChatError from "../src/ChatError.ts"
import * as ChatRequest from "../src/ChatRequest.ts"
import * as FallbackStep from "../src/FallbackStep.ts"
import type * as ResiliencePolicy from "../src/ResiliencePolicy.ts"
import * as ResilientChat from "../src/ResilientChat.ts"
import type * as StreamEvent from "../src/StreamEvent.ts"
import * as ScriptedChatModel from "../src/testing/ScriptedChatModel.ts"

const meta = { provider: "scripted", model: "m" }
const request: ChatRequest.ChatRequest = { model: "m", messages: [{ role: "user", content: "hi" }] }
const answer = "The quick brown fox jumps over the lazy dog"
const cut = (delivered = "") =>
  new ChatError.StreamTruncated({ ...meta, message: "connection reset", delivered })
const serverError = () => new ChatError.ServerError({ ...meta, status: 500, message: "boom" })
const noJitter: ResiliencePolicy.ResiliencePolicy = { retry: { jitter: false } }

const setup = (policy: ResiliencePolicy.ResiliencePolicy, script: ScriptedChatModel.Script) =>
  ResilientChat.layer(policy).pipe(Layer.provideMerge(ScriptedChatModel.layer({ script })))

/** Runs one stream under TestClock: fork, advance the clock, join. */
const consume = (input: ChatRequest.ChatRequest = request, advance: Duration.Input = "10 minutes") =>
  Effect.gen(function* () {
    const chat = yield* ResilientChat.ResilientChat
    const fiber = yield* chat.stream(input).pipe(Stream.runCollect, Effect.exit, Effect.forkChild)
    yield* TestClock.adjust(advance)
    return yield* Fiber.join(fiber)
  })

const calls = Effect.flatMap(ScriptedChatModel.ScriptedChatModel, (recorder) => recorder.calls)

const run = (
  policy: ResiliencePolicy.ResiliencePolicy,
  script: ScriptedChatModel.Script,
  advance: Duration.Input = "10 minutes"
) =>
  Effect.gen(function* () {
    const exit = yield* consume(request, advance)
    return { exit, calls: yield* calls }
  }).pipe(Effect.provide(setup(policy, script)))

const textOf = (events: ReadonlyArray<StreamEvent.StreamEvent>) =>
  events.flatMap((e) => (e.type === "text-delta" ? [e.delta] : [])).join("")

const ofType = <T extends StreamEvent.StreamEvent["type"]>(
  events: ReadonlyArray<StreamEvent.StreamEvent>,
  type: T
) => events.filter((e): e is Extract<StreamEvent.StreamEvent, { type: T }> => e.type === type)

const success = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isSuccess(exit)) return exit.value
  throw new Error(`expected success, got ${String(exit.cause)}`)
}

const failure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isFailure(exit)) {
    const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
    if (reason !== undefined && reason._tag === "Fail") return reason.error
  }
  throw new Error(`expected a typed failure, got ${JSON.stringify(exit)}`)
}

/** Invariant: a successful stream ends with exactly one finish, as its last event. */
const assertOneFinish = (events: ReadonlyArray<StreamEvent.StreamEvent>) => {
  assert.strictEqual(ofType(events, "finish").length, 1)
  assert.strictEqual(events.at(-1)?.type, "finish")
}

/** Answers a continuation with the rest of `text` after the assistant prefix, repeating `overlap` characters. */
const continuing =
  (text: string, overlap = 0, options: { readonly chunkSize?: number } = {}) =>
  (call: { readonly request: ChatRequest.ChatRequest }) => {
    const prefix = ChatRequest.assistantPrefix(call.request) ?? ""
    return ScriptedChatModel.stream(
      ScriptedChatModel.textEvents(text.slice(Math.max(0, prefix.length - overlap)), options)
    )
  }

describe("ResilientChat", () => {
  describe("requests", () => {
    it.effect("streams an answer and ends with exactly one finish", () =>
      Effect.gen(function* () {
        const { exit, calls } = yield* run(noJitter, [
          ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer))
        ])
        const events = success(exit)
        assert.strictEqual(textOf(events), answer)
        assertOneFinish(events)
        assert.deepStrictEqual(
          calls.map((c) => [c.kind, c.outcome]),
          [["stream", "success"]]
        )
      })
    )

    it.effect("fails an invalid request with InvalidRequest before any call", () =>
      Effect.gen(function* () {
        const exit = yield* consume({ model: "m", messages: [] })
        const error = failure(exit)
        assert.strictEqual(error._tag, "InvalidRequest")
        assert.strictEqual((yield* calls).length, 0)
      }).pipe(Effect.provide(setup(noJitter, [])))
    )

    it.effect("complete folds the resilient stream into a completion", () =>
      Effect.gen(function* () {
        const chat = yield* ResilientChat.ResilientChat
        const fiber = yield* chat.complete(request).pipe(Effect.forkChild)
        yield* TestClock.adjust("1 minute")
        const completion = yield* Fiber.join(fiber)
        assert.strictEqual(completion.text, answer)
        assert.strictEqual(completion.finishReason, "stop")
        assert.strictEqual((yield* calls).length, 2)
      }).pipe(
        Effect.provide(
          setup(noJitter, (call) =>
            call.index === 0 ? ScriptedChatModel.fail(serverError()) : continuing(answer)(call)
          )
        )
      )
    )
  })

  describe("retries", () => {
    it.effect("re-runs the request before the first content event, waiting at least Retry-After", () =>
      Effect.gen(function* () {
        const limited = new ChatError.RateLimited({
          ...meta,
          message: "slow down",
          retryAfter: Duration.seconds(2)
        })
        const { exit, calls } = yield* run(noJitter, [
          ScriptedChatModel.fail(limited),
          ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer))
        ])
        const events = success(exit)
        assert.strictEqual(textOf(events), answer)
        assertOneFinish(events)
        const [retrying] = ofType(events, "retrying")
        assert.strictEqual(retrying?.attempt, 1)
        assert.strictEqual(Duration.toMillis(retrying!.delay), 2000)
        assert.strictEqual(retrying?.error._tag, "RateLimited")
        assert.strictEqual(events[0]?.type, "retrying")
        assert.deepStrictEqual(calls[1]?.request, request)
      })
    )

    it.effect("backs off exponentially and gives up after maxRetries, then falls back", () =>
      Effect.gen(function* () {
        const { exit, calls } = yield* run(
          { retry: { jitter: false, maxRetries: 2, baseDelay: "100 millis" } },
          [
            ScriptedChatModel.fail(serverError()),
            ScriptedChatModel.fail(serverError()),
            ScriptedChatModel.fail(serverError()),
            ScriptedChatModel.complete(answer)
          ]
        )
        const events = success(exit)
        assert.deepStrictEqual(
          ofType(events, "retrying").map((e) => [e.attempt, Duration.toMillis(e.delay)]),
          [
            [1, 100],
            [2, 200]
          ]
        )
        assert.deepStrictEqual(
          ofType(events, "fallback").map((e) => [e.step, e.error._tag]),
          [["non-streaming", "ServerError"]]
        )
        assert.strictEqual(textOf(events), answer)
        assertOneFinish(events)
        assert.deepStrictEqual(
          calls.map((c) => c.kind),
          ["stream", "stream", "stream", "complete"]
        )
      })
    )

    it.effect("logs each retry and fallback as a warning with annotations", () =>
      Effect.gen(function* () {
        const lines: Array<{ level: string; message: unknown; annotations: Record<string, unknown> }> = []
        const capture = Logger.make<unknown, void>(({ fiber, logLevel, message }) => {
          lines.push({
            level: logLevel,
            message,
            annotations: { ...fiber.getRef(References.CurrentLogAnnotations) }
          })
        })
        yield* run({ retry: { jitter: false, maxRetries: 1 } }, [
          ScriptedChatModel.fail(serverError()),
          ScriptedChatModel.fail(serverError()),
          ScriptedChatModel.complete(answer)
        ]).pipe(Effect.provide(Logger.layer([capture])))
        const retry = lines.find((l) => String(l.message).includes("retrying"))
        assert.strictEqual(retry?.level, "Warn")
        assert.deepInclude(retry?.annotations, {
          attempt: 1,
          delayMillis: 500,
          error: "ServerError",
          model: "m"
        })
        const fallback = lines.find((l) => String(l.message).includes("falling back"))
        assert.deepInclude(fallback?.annotations, { step: "non-streaming", error: "ServerError" })
      })
    )

    it.effect("never retries a non-retryable error, and skips steps that would call the same model", () =>
      Effect.gen(function* () {
        const denied = new ChatError.AuthenticationFailed({ ...meta, status: 401, message: "bad key" })
        const { exit, calls } = yield* run(noJitter, [ScriptedChatModel.fail(denied)])
        assert.strictEqual(failure(exit)._tag, "AuthenticationFailed")
        assert.strictEqual(calls.length, 1)
      })
    )

    it.effect("a Retry-After above maxRetryAfter does not wait but moves to the next fallback", () =>
      Effect.gen(function* () {
        const limited = new ChatError.RateLimited({
          ...meta,
          message: "later",
          retryAfter: Duration.minutes(5)
        })
        // The model's own non-streaming step is skipped too: it is inside the Retry-After window.
        const { exit, calls } = yield* run(
          {
            ...noJitter,
            fallback: [FallbackStep.nonStreaming, FallbackStep.model("m-mini", { streaming: false })]
          },
          [ScriptedChatModel.fail(limited), ScriptedChatModel.complete(answer)],
          "1 millis"
        )
        const events = success(exit)
        assert.strictEqual(ofType(events, "retrying").length, 0)
        assert.deepStrictEqual(
          ofType(events, "fallback").map((e) => e.step),
          ["non-streaming", "model:m-mini"]
        )
        assert.strictEqual(textOf(events), answer)
        assert.strictEqual(calls.length, 2)
        assert.strictEqual(calls[1]?.kind, "complete")
        assert.strictEqual(calls[1]?.request.model, "m-mini")
      })
    )

    it.effect("a retry that would outlive the total deadline moves on instead of waiting", () =>
      Effect.gen(function* () {
        const limited = new ChatError.RateLimited({
          ...meta,
          message: "later",
          retryAfter: Duration.seconds(50)
        })
        const { exit } = yield* run(
          {
            retry: { jitter: false },
            timeouts: { total: "30 seconds" },
            fallback: [FallbackStep.model("m-mini", { streaming: false })]
          },
          [ScriptedChatModel.fail(limited), ScriptedChatModel.complete(answer)],
          "1 millis"
        )
        const events = success(exit)
        assert.strictEqual(ofType(events, "retrying").length, 0)
        assert.strictEqual(textOf(events), answer)
      })
    )
  })

  describe("mid-stream recovery", () => {
    it.effect("continues after a reset with the delivered text as the last (assistant) message", () =>
      Effect.gen(function* () {
        const { exit, calls } = yield* run(noJitter, (call) =>
          call.index === 0
            ? ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), {
                failAt: { index: 3, error: cut() }
              })
            : continuing(answer)(call)
        )
        const events = success(exit)
        assert.strictEqual(textOf(events), answer)
        assertOneFinish(events)
        const continuation = calls[1]!.request
        assert.deepStrictEqual(continuation.messages.at(-1), { role: "assistant", content: "The quick br" })
        assert.strictEqual(continuation.messages.at(-2)?.role, "system")
        assert.deepStrictEqual(continuation.messages[0], request.messages[0])
      })
    )

    it.effect("trims the overlap when the continuation repeats the delivered tail", () =>
      Effect.gen(function* () {
        const { exit } = yield* run(noJitter, (call) =>
          call.index === 0
            ? ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), {
                failAt: { index: 4, error: cut() }
              })
            : continuing(answer, 9, { chunkSize: 2 })(call)
        )
        const events = success(exit)
        assert.strictEqual(textOf(events), answer)
      })
    )

    it.effect("trims a continuation that restarts the answer from the beginning", () =>
      Effect.gen(function* () {
        const { exit } = yield* run(noJitter, (call) =>
          call.index === 0
            ? ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), {
                failAt: { index: 2, error: cut() }
              })
            : ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer))
        )
        assert.strictEqual(textOf(success(exit)), answer)
      })
    )

    it.effect("recovers from an in-band error frame after content", () =>
      Effect.gen(function* () {
        const inBand = new ChatError.Overloaded({ ...meta, message: "overloaded" })
        const { exit } = yield* run(noJitter, (call) =>
          call.index === 0
            ? ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), {
                failAt: { index: 5, error: inBand }
              })
            : continuing(answer)(call)
        )
        const events = success(exit)
        assert.strictEqual(textOf(events), answer)
        assert.strictEqual(ofType(events, "retrying")[0]?.error._tag, "Overloaded")
      })
    )

    it.effect("treats a stream that ends without a finish event as truncated and recovers", () =>
      Effect.gen(function* () {
        const events = ScriptedChatModel.textEvents(answer).slice(0, 4)
        const { exit } = yield* run(noJitter, (call) =>
          call.index === 0 ? ScriptedChatModel.stream(events) : continuing(answer)(call)
        )
        const out = success(exit)
        assert.strictEqual(textOf(out), answer)
        assert.strictEqual(ofType(out, "retrying")[0]?.error._tag, "StreamTruncated")
      })
    )

    it.effect('in "fail" mode fails with StreamTruncated carrying the delivered text', () =>
      Effect.gen(function* () {
        const { exit, calls } = yield* run({ ...noJitter, midStream: "fail" }, [
          ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), {
            failAt: { index: 3, error: serverError() }
          })
        ])
        const error = failure(exit)
        assert.strictEqual(error._tag, "StreamTruncated")
        if (error._tag === "StreamTruncated") assert.strictEqual(error.delivered, "The quick br")
        assert.strictEqual(calls.length, 1)
      })
    )

    it.effect("does not duplicate tool-call deltas that were in flight", () =>
      Effect.gen(function* () {
        const first: ScriptedChatModel.Turn = ScriptedChatModel.stream(
          [
            { type: "tool-call-delta", index: 0, id: "call_1", name: "lookup", argumentsDelta: '{"city":' },
            { type: "tool-call-delta", index: 0, argumentsDelta: '"Par' }
          ],
          { failAt: { index: 2, error: cut() } }
        )
        const replay: ScriptedChatModel.Turn = ScriptedChatModel.stream([
          { type: "tool-call-delta", index: 0, id: "call_1", name: "lookup", argumentsDelta: '{"ci' },
          { type: "tool-call-delta", index: 0, argumentsDelta: 'ty":"Paris"}' },
          { type: "tool-call-delta", index: 1, id: "call_2", name: "time", argumentsDelta: "{}" },
          { type: "finish", reason: "tool-calls" }
        ])
        const { exit, calls } = yield* run(noJitter, [first, replay])
        const events = success(exit)
        const tools = ofType(events, "tool-call-delta")
        assert.strictEqual(
          tools
            .filter((t) => t.index === 0)
            .map((t) => t.argumentsDelta)
            .join(""),
          '{"city":"Paris"}'
        )
        assert.strictEqual(tools.filter((t) => t.id === "call_1").length, 1)
        assert.strictEqual(tools.filter((t) => t.name === "lookup").length, 1)
        assert.isTrue(tools.every((t) => t.index === 1 || t.argumentsDelta !== "" || t.id !== undefined))
        const completion = ChatCompletion.fromEvents(events, "m")
        assert.deepStrictEqual(completion.toolCalls, [
          { id: "call_1", name: "lookup", arguments: '{"city":"Paris"}' },
          { id: "call_2", name: "time", arguments: "{}" }
        ])
        assert.strictEqual(completion.finishReason, "tool-calls")
        // Only tool content was delivered: the retry re-runs the original request.
        assert.deepStrictEqual(calls[1]?.request, request)
      })
    )
  })

  describe("timeouts", () => {
    it.effect("a stall before the first event is a retryable first-token Timeout", () =>
      Effect.gen(function* () {
        const { exit, calls } = yield* run({ ...noJitter, timeouts: { firstToken: "5 seconds" } }, [
          ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), { stallAt: 0 }),
          ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer))
        ])
        const events = success(exit)
        const error = ofType(events, "retrying")[0]?.error
        assert.strictEqual(error?._tag, "Timeout")
        if (error?._tag === "Timeout") {
          assert.strictEqual(error.phase, "first-token")
          assert.strictEqual(Duration.toMillis(error.timeout), 5000)
        }
        assert.strictEqual(textOf(events), answer)
        assert.strictEqual(calls[0]?.outcome, "interrupted")
      })
    )

    it.effect("a stall between events is an idle Timeout, recovered by continuation", () =>
      Effect.gen(function* () {
        const { exit } = yield* run({ ...noJitter, timeouts: { idle: "5 seconds" } }, (call) =>
          call.index === 0
            ? ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), { stallAt: 3 })
            : continuing(answer)(call)
        )
        const events = success(exit)
        const error = ofType(events, "retrying")[0]?.error
        assert.isTrue(error?._tag === "Timeout" && error.phase === "idle")
        assert.strictEqual(textOf(events), answer)
      })
    )

    it.effect("the idle deadline does not fire while events keep arriving", () =>
      Effect.gen(function* () {
        const { exit } = yield* run(
          { ...noJitter, timeouts: { idle: "2 seconds", firstToken: "2 seconds" } },
          [ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), { delay: "1500 millis" })]
        )
        const events = success(exit)
        assert.strictEqual(ofType(events, "retrying").length, 0)
        assert.strictEqual(textOf(events), answer)
      })
    )

    it.effect("the total deadline ends the call with Timeout(total) and interrupts the attempt", () =>
      Effect.gen(function* () {
        const stall = ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), { stallAt: 0 })
        const { exit, calls } = yield* run(
          { ...noJitter, timeouts: { firstToken: "30 seconds", total: "45 seconds" } },
          [stall, stall, stall]
        )
        const error = failure(exit)
        assert.isTrue(error._tag === "Timeout" && error.phase === "total")
        assert.strictEqual(calls.length, 2)
        assert.isTrue(calls.every((c) => c.outcome === "interrupted"))
      })
    )
    it.effect(
      "the total deadline also ends a non-streaming fallback that never answers, and interrupts it",
      () =>
        Effect.gen(function* () {
          const stall = ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), { stallAt: 0 })
          const { exit, calls } = yield* run(
            {
              retry: { jitter: false, maxRetries: 0 },
              timeouts: { firstToken: "5 seconds", total: "45 seconds" },
              fallback: [FallbackStep.nonStreaming]
            },
            [stall, stall]
          )
          const error = failure(exit)
          assert.isTrue(error._tag === "Timeout" && error.phase === "total")
          assert.deepStrictEqual(
            calls.map((c) => [c.kind, c.outcome]),
            [
              ["stream", "interrupted"],
              ["complete", "interrupted"]
            ]
          )
        })
    )
  })

  describe("fallback chain", () => {
    it.effect("non-streaming fallback after partial delivery emits only the remainder", () =>
      Effect.gen(function* () {
        const { exit, calls } = yield* run({ retry: { jitter: false, maxRetries: 0 } }, (call) => {
          if (call.index === 0) {
            return ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), {
              failAt: { index: 2, error: serverError() }
            })
          }
          const prefix = ChatRequest.assistantPrefix(call.request) ?? ""
          return ScriptedChatModel.complete(answer.slice(prefix.length))
        })
        const events = success(exit)
        assert.strictEqual(textOf(events), answer)
        assert.strictEqual(calls[1]?.kind, "complete")
        assert.strictEqual(ChatRequest.assistantPrefix(calls[1]!.request), "The quic")
        assertOneFinish(events)
      })
    )

    it.effect("tries another model of the same provider, then another ChatModel", () =>
      Effect.gen(function* () {
        const other = yield* ScriptedChatModel.make({
          provider: "backup",
          script: [ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer))]
        })
        const { exit, calls } = yield* run(
          {
            retry: { jitter: false, maxRetries: 0 },
            fallback: [FallbackStep.model("m-mini"), FallbackStep.chatModel("backup", other.chatModel)]
          },
          [ScriptedChatModel.fail(serverError()), ScriptedChatModel.fail(serverError())]
        )
        const events = success(exit)
        assert.deepStrictEqual(
          ofType(events, "fallback").map((e) => e.step),
          ["model:m-mini", "chat-model:backup"]
        )
        assert.strictEqual(calls[1]?.request.model, "m-mini")
        assert.strictEqual((yield* other.recorder.calls).length, 1)
        assert.strictEqual(textOf(events), answer)
      })
    )

    it.effect("a ChatModel step may be given as a layer", () =>
      Effect.gen(function* () {
        const backup = ScriptedChatModel.layer({ script: [ScriptedChatModel.complete("from the layer")] })
        const { exit } = yield* run(
          {
            retry: { jitter: false, maxRetries: 0 },
            fallback: [FallbackStep.chatModel("backup", backup, { streaming: false })]
          },
          [ScriptedChatModel.fail(serverError())]
        )
        assert.strictEqual(textOf(success(exit)), "from the layer")
      })
    )

    it.effect("serves an identical request from the cache once the model is down", () =>
      Effect.gen(function* () {
        const first = yield* consume()
        assert.strictEqual(textOf(success(first)), answer)
        const second = yield* consume()
        const events = success(second)
        assert.strictEqual(textOf(events), answer)
        assert.deepStrictEqual(
          ofType(events, "fallback").map((e) => e.step),
          ["cached"]
        )
        const other = yield* consume({ ...request, messages: [{ role: "user", content: "something else" }] })
        const error = failure(other)
        assert.isTrue(error._tag === "NotFound" && error.provider === "cache")
      }).pipe(
        Effect.provide(
          setup({ retry: { jitter: false, maxRetries: 0 }, fallback: [FallbackStep.cached] }, (call) =>
            call.index === 0
              ? ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer))
              : ScriptedChatModel.fail(serverError())
          )
        )
      )
    )

    it.effect(
      "a static answer is the last resort; after partial delivery it must match the delivered text",
      () =>
        Effect.gen(function* () {
          const fresh = yield* run(
            {
              retry: { jitter: false, maxRetries: 0 },
              fallback: [FallbackStep.staticAnswer("Sorry, try later.")]
            },
            [ScriptedChatModel.fail(serverError())]
          )
          assert.strictEqual(textOf(success(fresh.exit)), "Sorry, try later.")
          const partial = yield* run(
            {
              retry: { jitter: false, maxRetries: 0 },
              fallback: [FallbackStep.staticAnswer("Sorry, try later.")]
            },
            [
              ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), {
                failAt: { index: 2, error: serverError() }
              })
            ]
          )
          const error = failure(partial.exit)
          assert.isTrue(error._tag === "StreamTruncated" && error.delivered === "The quic")
        })
    )

    it.effect("when every step fails the stream fails with the last error", () =>
      Effect.gen(function* () {
        const overloaded = new ChatError.Overloaded({ ...meta, message: "busy" })
        const { exit } = yield* run({ retry: { jitter: false, maxRetries: 1 } }, [
          ScriptedChatModel.fail(serverError()),
          ScriptedChatModel.fail(serverError()),
          ScriptedChatModel.fail(overloaded)
        ])
        assert.strictEqual(failure(exit)._tag, "Overloaded")
      })
    )
  })

  describe("circuit breaker", () => {
    it.effect("skips an open model straight to the fallback, then probes it after openFor", () =>
      Effect.gen(function* () {
        const policy: ResiliencePolicy.ResiliencePolicy = {
          retry: { jitter: false, maxRetries: 0 },
          circuitBreaker: { failures: 2, openFor: "30 seconds" },
          fallback: [FallbackStep.staticAnswer("static")]
        }
        const program = Effect.gen(function* () {
          for (let i = 0; i < 2; i++)
            assert.strictEqual(textOf(success(yield* consume(request, "1 millis"))), "static")
          const skipped = success(yield* consume(request, "1 millis"))
          const fallback = ofType(skipped, "fallback")[0]
          assert.strictEqual(fallback?.error._tag, "CircuitOpen")
          assert.strictEqual((yield* calls).length, 2)
          yield* TestClock.adjust("30 seconds")
          const probed = success(yield* consume(request, "1 millis"))
          assert.strictEqual(textOf(probed), answer)
          assert.strictEqual((yield* calls).length, 3)
        })
        yield* program.pipe(
          Effect.provide(
            setup(policy, [
              ScriptedChatModel.fail(serverError()),
              ScriptedChatModel.fail(serverError()),
              ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer))
            ])
          )
        )
      })
    )
  })

  describe("cancellation", () => {
    it.effect("interrupting the consumer interrupts the model stream", () =>
      Effect.gen(function* () {
        const chat = yield* ResilientChat.ResilientChat
        const fiber = yield* chat.stream(request).pipe(Stream.runCollect, Effect.forkChild)
        yield* TestClock.adjust("2500 millis")
        yield* Fiber.interrupt(fiber)
        const recorded = yield* calls
        assert.deepStrictEqual(
          recorded.map((c) => [c.emitted, c.outcome]),
          [[2, "interrupted"]]
        )
      }).pipe(
        Effect.provide(
          setup(noJitter, [
            ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), { delay: "1 second" })
          ])
        )
      )
    )

    it.effect("a consumer that stops early interrupts the model stream", () =>
      Effect.gen(function* () {
        const chat = yield* ResilientChat.ResilientChat
        const fiber = yield* chat.stream(request).pipe(Stream.take(2), Stream.runCollect, Effect.forkChild)
        yield* TestClock.adjust("1 minute")
        const events = yield* Fiber.join(fiber)
        assert.strictEqual(events.length, 2)
        const recorded = yield* calls
        assert.strictEqual(recorded[0]?.outcome, "interrupted")
      }).pipe(
        Effect.provide(
          setup(noJitter, [
            ScriptedChatModel.stream(ScriptedChatModel.textEvents(answer), { delay: "1 second" })
          ])
        )
      )
    )

    it.effect("interrupting during a backoff wait leaves nothing running", () =>
      Effect.gen(function* () {
        const chat = yield* ResilientChat.ResilientChat
        const fiber = yield* chat.stream(request).pipe(Stream.runCollect, Effect.forkChild)
        yield* TestClock.adjust("100 millis")
        yield* Fiber.interrupt(fiber)
        yield* TestClock.adjust("1 minute")
        assert.deepStrictEqual(
          (yield* calls).map((c) => c.outcome),
          ["failure"]
        )
      }).pipe(Effect.provide(setup(noJitter, [ScriptedChatModel.fail(serverError())])))
    )
  })
})
