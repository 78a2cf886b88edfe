/**
 * Invariant 5: the API key appears in no error, log line or span — across
 * every fault-matrix cell, every named scenario and a pre-flight with a
 * rejected key. The fake server echoes the bearer token in its 401 message on
 * purpose, so redaction has real work to do (the control test proves it).
 */
import { inspect } from "node:util"
import { assert, describe, it } from "@effect/vitest"
import { ChatError, ResilientChat, StreamEvent } from "@steadystream/core"
import { OpenAiChatModel } from "@steadystream/openai-adapter"
import { FakeOpenAiServer, FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Tracer from "effect/Tracer"
import OpenAI from "openai"
import { cells } from "./cells.ts"
import { apiKey, chatLayer, fastPolicy, runStream } from "./support.ts"

/** Everything observable about a run, as text to scan. */
const makeCapture = () => {
  const logs: Array<string> = []
  const spans: Array<Tracer.Span> = []
  const errors: Array<string> = []
  const logger = Logger.make((options) => {
    logs.push(Logger.formatJson.log(options))
    logs.push(inspect(options.message, { depth: 8 }))
    logs.push(Cause.pretty(options.cause))
  })
  const tracer = Tracer.make({
    span(options) {
      const span = Tracer.nativeTracer.span(options)
      spans.push(span)
      return span
    }
  })
  const addError = (error: ChatError.ChatError) => {
    errors.push(error.message, String(error), inspect(error, { depth: 8 }))
    errors.push(JSON.stringify(ChatError.encode(error)))
  }
  const spanText = (span: Tracer.Span): string => {
    const native = span as Tracer.Span & { readonly events?: ReadonlyArray<unknown> }
    const status = span.status._tag === "Ended" ? inspect(span.status.exit, { depth: 8 }) : ""
    return [
      span.name,
      inspect([...span.attributes.entries()], { depth: 8 }),
      inspect(native.events ?? [], { depth: 8 }),
      status
    ].join("\n")
  }
  const all = () => [...logs, ...errors, ...spans.map(spanText)]
  const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    effect.pipe(Effect.withTracer(tracer), Effect.provide(Logger.layer([logger])))
  return { logs, spans, errors, addError, all, provide }
}

const occurrences = (texts: ReadonlyArray<string>, secret: string): number =>
  texts.reduce((sum, text) => sum + text.split(secret).length - 1, 0)

const encodeEvent = Schema.encodeSync(StreamEvent.StreamEvent)

const runScenario = (
  capture: ReturnType<typeof makeCapture>,
  scenario: FakeOpenAiServer.Options,
  policy = fastPolicy
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({ apiKey, keepAlive: "20 millis", ...scenario })
      const chat = yield* ResilientChat.ResilientChat.pipe(Effect.provide(chatLayer(server.url, policy)))
      const outcome = yield* capture.provide(runStream(chat))
      assert.isUndefined(outcome.defect)
      if (outcome.error !== undefined) capture.addError(outcome.error)
      for (const event of outcome.events) {
        if (event.type === "retrying" || event.type === "fallback") capture.addError(event.error)
        capture.errors.push(JSON.stringify(encodeEvent(event)))
      }
      return outcome
    })
  )

describe("chaos: secrets", () => {
  it.live("control: the fake server echoes the key, so an unredacted client leaks it", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* FakeOpenAiServer.make({ apiKey, steps: [FakeScenario.unauthorized] })
        const client = new OpenAI({ apiKey, baseURL: server.url, maxRetries: 0 })
        const error = yield* Effect.flip(
          Effect.tryPromise(() =>
            client.chat.completions.create({
              model: "gpt-fake",
              messages: [{ role: "user", content: "hi" }]
            })
          )
        )
        assert.isAbove(occurrences([inspect(error, { depth: 8 })], apiKey), 0)
      })
    )
  )

  it.live("no key in any error, log line or span, across every cell and named scenario", () =>
    Effect.gen(function* () {
      const capture = makeCapture()
      const scenarios: Array<FakeOpenAiServer.Options & { readonly policy?: typeof fastPolicy }> = [
        ...cells.map((cell) => ({
          text: cell.text,
          steps: cell.steps,
          ...(cell.fallback === undefined ? {} : { fallback: cell.fallback }),
          policy: cell.policy
        })),
        ...FakeScenario.names.map((name) => FakeScenario.named[name])
      ]
      const outcomes = yield* Effect.forEach(
        scenarios,
        ({ policy, ...scenario }) => runScenario(capture, scenario, policy),
        { concurrency: 8 }
      )
      // The scan saw real material: failures, recoveries with logs, spans with attributes.
      assert.isAbove(outcomes.filter((outcome) => outcome.error?._tag === "AuthenticationFailed").length, 0)
      assert.isAbove(capture.logs.length, 0)
      assert.isAbove(capture.spans.length, scenarios.length - 1)
      assert.isTrue(capture.spans.some((span) => span.attributes.size > 0))
      assert.strictEqual(occurrences(capture.all(), apiKey), 0)
      // And a scan for part of the key, in case a message truncates it.
      assert.strictEqual(occurrences(capture.all(), apiKey.slice(0, 20)), 0)
    })
  )

  it.live("a pre-flight with a rejected key fails typed, without the key", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const capture = makeCapture()
        const server = yield* FakeOpenAiServer.make({ apiKey: "sk-the-server-wants-another-key" })
        const exit = yield* capture.provide(
          Layer.build(
            OpenAiChatModel.layer({ apiKey: Redacted.make(apiKey), baseURL: server.url, preflight: true })
          ).pipe(Effect.exit)
        )
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) {
          const failure = exit.cause.reasons.find(Cause.isFailReason)
          assert.isDefined(failure)
          assert.strictEqual(failure!.error._tag, "AuthenticationFailed")
          capture.addError(failure!.error)
          capture.errors.push(Cause.pretty(exit.cause))
        }
        assert.strictEqual(occurrences(capture.all(), apiKey), 0)
      })
    )
  )
})
