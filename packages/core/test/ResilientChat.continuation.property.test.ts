import { assert, describe, it } from "@effect/vitest"
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
import * as Verifier from "../src/internal/Verifier.ts"
import * as ResilientChat from "../src/ResilientChat.ts"
import type * as StreamEvent from "../src/StreamEvent.ts"
import * as ScriptedChatModel from "../src/testing/ScriptedChatModel.ts"

// Continuations that behave the way real models do, against any text and any cut: the consumer's text
// never repeats delivered text, and a successful call never ends with unverified content.

const syllables = [
  "ka",
  "lo",
  "mi",
  "re",
  "tan",
  "vo",
  "su",
  "del",
  "pri",
  "no",
  "ga",
  "te",
  "bru",
  "sha",
  "en",
  "or"
]
const wordArb = fc
  .array(fc.constantFrom(...syllables), { minLength: 2, maxLength: 3 })
  .map((parts) => parts.join(""))
const sentenceArb = fc.array(wordArb, { minLength: 4, maxLength: 12 }).map((words) => {
  const distinct = words.filter((word, i) => word !== words[i - 1])
  const text = distinct.join(" ")
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`
})
const answerArb = fc
  .array(sentenceArb, { minLength: 1, maxLength: 5 })
  .map((sentences) => sentences.join(" "))

const preambles = [
  "Sure! Continuing from where I left off: ",
  "Certainly, here is the rest of my answer:\n",
  "Of course. Picking up where I stopped... "
]

/** What the model answers a continuation request with. */
const behaviourArb = fc.oneof(
  fc.record({ kind: fc.constant("continue" as const) }),
  fc.record({ kind: fc.constant("echo" as const), from: fc.nat() }),
  fc.record({ kind: fc.constant("preamble" as const), which: fc.nat(), echo: fc.boolean() }),
  fc.record({ kind: fc.constant("replay" as const) }),
  fc.record({ kind: fc.constant("restart" as const), other: answerArb, how: fc.nat({ max: 2 }) })
)

const caseArb = fc.record({
  answer: answerArb,
  cut: fc.double({ min: 0.02, max: 0.98, noNaN: true }),
  chunkSize: fc.integer({ min: 1, max: 7 }),
  behaviour: behaviourArb
})
type Case = typeof caseArb extends fc.Arbitrary<infer A> ? A : never

const isWord = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}\p{M}]/u.test(c)

/** The tails of `delivered` a model may echo: from a word start, at least 4 long or the last word. */
const echoTails = (delivered: string): Array<string> => {
  const tails: Array<string> = []
  for (let at = 0; at < delivered.length; at++) {
    if (at > 0 && isWord(delivered[at - 1])) continue
    if (!isWord(delivered[at])) continue
    const tail = delivered.slice(at)
    if (tail.length >= 4 || /^[\p{L}\p{N}\p{M}]+\s*$/u.test(tail)) tails.push(tail)
  }
  return tails
}

/**
 * Whether the echo in `reply` (its first `intended` characters) is the only reading: no other prefix
 * of it is a tail the verifier would trim (at least 4 long, all of the delivered text, or its last
 * word). A continuation that happens to start with the cut word's own letters ("ka" + "ka…") cannot
 * be told from an echo.
 */
const unambiguous = (delivered: string, reply: string, intended: number) => {
  for (let k = 1; k <= Math.min(delivered.length, reply.length); k++) {
    if (k === intended || !delivered.endsWith(reply.slice(0, k))) continue
    const lastWord =
      !isWord(delivered[delivered.length - k - 1]) && /^[\p{L}\p{N}\p{M}]+\s*$/u.test(reply.slice(0, k))
    if (k >= 4 || k === delivered.length || lastWord) return false
  }
  return true
}

/** The continuation answer, and the texts a successful call may end with. */
const plan = (c: Case, delivered: string) => {
  const rest = c.answer.slice(delivered.length)
  const b = c.behaviour
  switch (b.kind) {
    case "continue":
      return { reply: rest, allowed: [c.answer], clear: unambiguous(delivered, rest, 0) }
    case "echo": {
      const tails = echoTails(delivered)
      const tail = tails.length === 0 ? "" : (tails[b.from % tails.length] as string)
      return {
        reply: tail + rest,
        allowed: [c.answer],
        clear: unambiguous(delivered, tail + rest, tail.length)
      }
    }
    case "preamble": {
      const lastWord = delivered.match(/[\p{L}\p{N}]+$/u)?.[0] ?? ""
      const echo = b.echo ? lastWord : ""
      const reply = (preambles[b.which % preambles.length] as string) + echo + rest
      return { reply, allowed: [c.answer], clear: unambiguous(delivered, echo + rest, echo.length) }
    }
    case "replay":
      return { reply: c.answer, allowed: [c.answer], clear: true }
    case "restart": {
      // Begins the answer again: with its first words, restating its opening phrase, or as a new sentence.
      const words = c.answer.split(" ")
      const reply =
        b.how === 0
          ? `${words.slice(0, 3).join(" ")} ${b.other}`
          : b.how === 1
            ? `${b.other.split(" ").slice(0, 2).join(" ")} ${words.slice(0, 8).join(" ")} ${b.other}`
            : `The ${b.other}`
      // A restart that reproduces the delivered text exactly may be used from there on, also when it
      // repeats the delivered tail (the anchor) after a few words; after a finished sentence, a new
      // sentence may be a genuine continuation.
      const anchor = Verifier.anchor(delivered)
      const at = reply.indexOf(anchor)
      const allowed = [
        ...(reply.startsWith(delivered) ? [reply] : []),
        ...(anchor.length >= 16 && at !== -1 && at <= 160
          ? [delivered + reply.slice(at + anchor.length)]
          : []),
        ...(/[.!?]\s*$/u.test(delivered) ? [delivered + reply] : [])
      ]
      // Documented limit: with fewer than three words delivered there is too little to compare a restart in
      // new words with.
      return { reply, allowed, clear: (delivered.match(/[\p{L}\p{N}]+/gu)?.length ?? 0) >= 3 }
    }
  }
}

const text = (events: ReadonlyArray<StreamEvent.StreamEvent>) =>
  events.flatMap((e) => (e.type === "text-delta" ? [e.delta] : [])).join("")

const runCase = (c: Case) =>
  Effect.gen(function* () {
    const cut = Math.max(1, Math.floor(c.answer.length * c.cut))
    const delivered = c.answer.slice(0, cut)
    const { reply, allowed, clear } = plan(c, delivered)
    const script: ScriptedChatModel.Script = (call) => {
      if (call.index === 0) {
        return ScriptedChatModel.stream(ScriptedChatModel.textEvents(delivered, { chunkSize: c.chunkSize }), {
          failAt: {
            index: Math.ceil(delivered.length / c.chunkSize),
            error: new ChatError.StreamTruncated({
              provider: "scripted",
              model: "m",
              message: "reset",
              delivered
            })
          }
        })
      }
      assert.strictEqual(ChatRequest.assistantPrefix(call.request), delivered)
      return call.kind === "stream"
        ? ScriptedChatModel.stream(ScriptedChatModel.textEvents(reply, { chunkSize: c.chunkSize }))
        : ScriptedChatModel.complete(reply)
    }
    const events: Array<StreamEvent.StreamEvent> = []
    const exit = yield* Effect.gen(function* () {
      const chat = yield* ResilientChat.ResilientChat
      const fiber = yield* chat.stream({ model: "m", messages: [{ role: "user", content: "go" }] }).pipe(
        Stream.runForEach((event) => Effect.sync(() => events.push(event))),
        Effect.exit,
        Effect.forkChild
      )
      // Time moves a second at a time, so a burst of instant events is never overtaken by a deadline.
      for (let second = 0; second < 300 && fiber.pollUnsafe() === undefined; second++) {
        yield* TestClock.adjust("1 second")
      }
      return yield* Fiber.join(fiber)
    }).pipe(
      Effect.provide(
        ResilientChat.layer({ retry: { maxRetries: 2, jitter: false }, circuitBreaker: false }).pipe(
          Layer.provideMerge(ScriptedChatModel.layer({ script }))
        )
      ),
      Effect.provide(TestClock.layer()),
      Effect.provideService(References.MinimumLogLevel, "None")
    )
    return { exit, seen: text(events), delivered, allowed, clear }
  })

describe("ResilientChat continuation properties", () => {
  it("property: whatever a continuation does, the consumer never sees delivered text twice or unverified text", async () => {
    const outcomes = { success: 0, rejected: 0, ambiguous: 0 }
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const { exit, seen, delivered, allowed, clear } = await Effect.runPromise(runCase(c))
        if (!clear) {
          outcomes.ambiguous++
          return
        }
        if (Exit.isSuccess(exit)) {
          outcomes.success++
          assert.include(allowed, seen, `${c.behaviour.kind}: ${JSON.stringify(seen)}`)
        } else {
          outcomes.rejected++
          const error = exit.cause.reasons.find((r) => r._tag === "Fail")?.error
          assert.isTrue(ChatError.isChatError(error), "a failure is a typed ChatError")
          assert.strictEqual(error?._tag, "ContinuationRejected", JSON.stringify(error))
          assert.strictEqual(seen, delivered, "only verified text was seen")
          assert.notStrictEqual(c.behaviour.kind, "continue", "a plain continuation is never rejected")
        }
      }),
      { numRuns: 300 }
    )
    // Not vacuous: both outcomes happen.
    assert.isAbove(outcomes.success, 100)
    assert.isAbove(outcomes.rejected, 10)
    assert.isBelow(outcomes.ambiguous, outcomes.success / 2)
  })
})
