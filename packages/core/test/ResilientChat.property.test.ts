import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as References from "effect/References"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import fc from "fast-check"
import * as ChatError from "../src/ChatError.ts"
import * as ChatRequest from "../src/ChatRequest.ts"
import type * as ModelEvent from "../src/ModelEvent.ts"
import * as ResilientChat from "../src/ResilientChat.ts"
import type * as StreamEvent from "../src/StreamEvent.ts"
import * as ScriptedChatModel from "../src/testing/ScriptedChatModel.ts"

const meta = { provider: "scripted", model: "m" }
const request: ChatRequest.ChatRequest = { model: "m", messages: [{ role: "user", content: "go" }] }

/** Characters of 1 and 2 UTF-16 code units, combining marks and CJK, so cuts land inside characters. */
const pool = [
  ..."abcdefghijklmnopqrstuvwxyz ,.!?0123456789",
  "é",
  "e\u0301",
  "中",
  "文",
  "😀",
  "🎉",
  "𝄞",
  "👍🏽",
  "ß",
  "\n"
]

const failureArb = fc.record({
  at: fc.nat({ max: 40 }),
  kind: fc.constantFrom("reset" as const, "in-band" as const, "stall" as const, "no-finish" as const),
  overlap: fc.nat({ max: 12 })
})

const caseArb = fc.record({
  answer: fc.array(fc.constantFrom(...pool), { minLength: 1, maxLength: 30 }).map((cs) => cs.join("")),
  chunkSize: fc.integer({ min: 1, max: 5 }),
  tool: fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }),
  toolChunk: fc.integer({ min: 1, max: 4 }),
  failures: fc.array(failureArb, { maxLength: 4 }),
  maxRetries: fc.integer({ min: 0, max: 5 }),
  minOverlap: fc.integer({ min: 1, max: 4 })
})
type Case = typeof caseArb extends fc.Arbitrary<infer A> ? A : never

const isWord = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}\p{M}]/u.test(c)

/**
 * Whether trimming `overlap` repeated code units is the only reading of this continuation: a tail
 * echo is trimmed when at least `minOverlap` long, all of the delivered text, or the delivered text's
 * last word (cut at the break or repeated whole); a continuation that is itself a start of the delivered text could be a restart.
 */
const unambiguous = (delivered: string, continuation: string, overlap: number, minOverlap: number) => {
  const cutWord = (k: number) =>
    !isWord(delivered[delivered.length - k - 1]) && /^[\p{L}\p{N}\p{M}]+\s*$/u.test(continuation.slice(0, k))
  const candidate = (k: number) => k >= minOverlap || k === delivered.length || cutWord(k)
  const fold = (text: string) => text.replace(/\s+/g, " ")
  const words = (text: string) => text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0
  const [d, c] = [fold(delivered), fold(continuation)]
  if (continuation !== "" && delivered.startsWith(continuation) && words(continuation) >= 3) return false
  if (d.length >= 16 && ((c.startsWith(d) && !continuation.startsWith(delivered)) || d.startsWith(c)))
    return false
  if (overlap > 0 && !candidate(overlap)) return false
  for (let k = overlap + 1; k <= Math.min(delivered.length, continuation.length); k++) {
    if (candidate(k) && delivered.endsWith(continuation.slice(0, k))) return false
  }
  return true
}

const chunks = (text: string, size: number) => {
  const out: Array<string> = []
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size))
  return out
}

const exactlyOnce = (c: Case) =>
  Effect.gen(function* () {
    let ambiguous = false
    const toolEvents: Array<ModelEvent.ModelEvent> =
      c.tool === undefined
        ? []
        : chunks(c.tool, c.toolChunk).map((part, i) => ({
            type: "tool-call-delta",
            index: 0,
            ...(i === 0 ? { id: "call_0", name: "fn" } : {}),
            argumentsDelta: part
          }))
    const script = (call: {
      readonly index: number
      readonly kind: "stream" | "complete"
      readonly request: ChatRequest.ChatRequest
    }) => {
      const failure = c.failures[call.index]
      const prefix = ChatRequest.assistantPrefix(call.request) ?? ""
      const overlap =
        prefix === ""
          ? 0
          : Math.min(failure?.overlap ?? c.failures[call.index - 1]?.overlap ?? 0, prefix.length)
      const rest = c.answer.slice(prefix.length - overlap)
      if (prefix !== "" && !unambiguous(prefix, rest, overlap, c.minOverlap)) ambiguous = true
      const finish: ModelEvent.ModelEvent = {
        type: "finish",
        reason: c.tool === undefined ? "stop" : "tool-calls"
      }
      const events: Array<ModelEvent.ModelEvent> = [
        ...chunks(rest, c.chunkSize).map((delta): ModelEvent.ModelEvent => ({ type: "text-delta", delta })),
        ...toolEvents,
        finish
      ]
      if (call.kind === "complete") {
        return ScriptedChatModel.complete({
          text: rest,
          finishReason: finish.reason,
          ...(c.tool === undefined ? {} : { toolCalls: [{ id: "call_0", name: "fn", arguments: c.tool }] })
        })
      }
      if (failure === undefined) return ScriptedChatModel.stream(events)
      const at = failure.at % events.length
      switch (failure.kind) {
        case "reset":
          return ScriptedChatModel.stream(events, {
            failAt: {
              index: at,
              error: new ChatError.StreamTruncated({ ...meta, message: "reset", delivered: "" })
            }
          })
        case "in-band":
          return ScriptedChatModel.stream(events, {
            failAt: { index: at, error: new ChatError.Overloaded({ ...meta, message: "in-band" }) }
          })
        case "stall":
          return ScriptedChatModel.stream(events, { stallAt: at })
        case "no-finish":
          return ScriptedChatModel.stream(events.slice(0, at))
      }
    }
    const layer = ResilientChat.layer({
      retry: { jitter: false, maxRetries: c.maxRetries, baseDelay: "10 millis" },
      timeouts: { firstToken: "5 seconds", idle: "5 seconds" },
      continuation: { minOverlap: c.minOverlap },
      circuitBreaker: false
    }).pipe(Layer.provideMerge(ScriptedChatModel.layer({ script })))
    return yield* Effect.gen(function* () {
      const chat = yield* ResilientChat.ResilientChat
      const fiber = yield* chat.stream(request).pipe(Stream.runCollect, Effect.exit, Effect.forkChild)
      yield* TestClock.adjust("2 minutes")
      const exit = yield* Fiber.join(fiber)
      return { exit, ambiguous }
    }).pipe(
      Effect.provide(layer),
      Effect.provide(TestClock.layer()),
      Effect.provideService(References.MinimumLogLevel, "None")
    )
  })

const text = (events: ReadonlyArray<StreamEvent.StreamEvent>) =>
  events.flatMap((e) => (e.type === "text-delta" ? [e.delta] : [])).join("")

describe("ResilientChat properties", () => {
  it("property: the delivered text and tool calls equal the scripted answer exactly, whatever fails where", async () => {
    let checked = 0
    let vacuous = 0
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const { exit, ambiguous } = await Effect.runPromise(exactlyOnce(c))
        if (ambiguous) {
          vacuous++
          return
        }
        checked++
        assert.isTrue(Exit.isSuccess(exit), `expected success, got ${JSON.stringify(exit)}`)
        if (!Exit.isSuccess(exit)) return
        const events = exit.value
        assert.strictEqual(text(events), c.answer)
        const tools = events.filter((e) => e.type === "tool-call-delta")
        assert.strictEqual(tools.map((t) => t.argumentsDelta).join(""), c.tool ?? "")
        assert.strictEqual(tools.filter((t) => t.id !== undefined).length, c.tool === undefined ? 0 : 1)
        assert.strictEqual(events.filter((e) => e.type === "finish").length, 1)
        assert.strictEqual(events.at(-1)?.type, "finish")
        // A delta never ends inside a surrogate pair.
        for (const e of events) {
          if (e.type === "text-delta") {
            const last = e.delta.charCodeAt(e.delta.length - 1)
            assert.isFalse(
              last >= 0xd800 && last <= 0xdbff,
              `delta ends in a lone high surrogate: ${JSON.stringify(e.delta)}`
            )
          }
        }
      }),
      { numRuns: 300 }
    )
    // The property must not be vacuous: most cases are checked.
    assert.isAbove(checked, vacuous * 2)
  })

  it("property: every run ends by the total deadline; retries ≤ maxRetries; delays ≥ Retry-After", async () => {
    const turnArb = fc.oneof(
      fc.record({ kind: fc.constant("limited" as const), retryAfter: fc.integer({ min: 0, max: 90_000 }) }),
      fc.record({
        kind: fc.constantFrom("server" as const, "auth" as const, "stall" as const, "ok" as const),
        retryAfter: fc.constant(0)
      })
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(turnArb, { maxLength: 8 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1_000, max: 100_000 }),
        async (turns, maxRetries, total) => {
          const script = (call: { readonly index: number }) => {
            const turn = turns[call.index] ?? { kind: "ok" as const, retryAfter: 0 }
            switch (turn.kind) {
              case "limited":
                return ScriptedChatModel.fail(
                  new ChatError.RateLimited({
                    ...meta,
                    message: "429",
                    retryAfter: Duration.millis(turn.retryAfter)
                  })
                )
              case "server":
                return ScriptedChatModel.fail(new ChatError.ServerError({ ...meta, message: "500" }))
              case "auth":
                return ScriptedChatModel.fail(new ChatError.AuthenticationFailed({ ...meta, message: "401" }))
              case "stall":
                return ScriptedChatModel.stream(ScriptedChatModel.textEvents("never"), { stallAt: 0 })
              case "ok":
                return ScriptedChatModel.stream(ScriptedChatModel.textEvents("fine"))
            }
          }
          const program = Effect.gen(function* () {
            const chat = yield* ResilientChat.ResilientChat
            const fiber = yield* chat.stream(request).pipe(Stream.runCollect, Effect.exit, Effect.forkChild)
            yield* TestClock.adjust(Duration.millis(total))
            const exit = yield* Fiber.join(fiber)
            const calls = yield* (yield* ScriptedChatModel.ScriptedChatModel).calls
            return { exit, calls }
          }).pipe(
            Effect.provide(
              ResilientChat.layer({
                retry: { maxRetries },
                timeouts: { total: Duration.millis(total) },
                circuitBreaker: false
              }).pipe(Layer.provideMerge(ScriptedChatModel.layer({ script })))
            ),
            Effect.provide(TestClock.layer()),
            Effect.provideService(References.MinimumLogLevel, "None")
          )
          // Joined after advancing exactly `total`: the run cannot outlive its deadline.
          const { exit, calls } = await Effect.runPromise(program)
          assert.isTrue(calls.every((c) => c.outcome !== "running"))
          if (Exit.isSuccess(exit)) {
            const retrying = exit.value.filter((e) => e.type === "retrying")
            assert.isAtMost(retrying.length, maxRetries)
            for (const r of retrying) {
              assert.isTrue(r.error.isRetryable)
              assert.isAtLeast(
                Duration.toMillis(r.delay),
                Duration.toMillis(r.error.retryAfter ?? Duration.zero)
              )
            }
            assert.strictEqual(exit.value.at(-1)?.type, "finish")
          } else {
            const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
            assert.isDefined(reason, "a failure is always a typed ChatError")
            if (reason?._tag === "Fail") assert.isTrue(ChatError.isChatError(reason.error))
          }
        }
      ),
      { numRuns: 200 }
    )
  })
})
