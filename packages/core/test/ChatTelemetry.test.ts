import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import { TestClock } from "effect/testing"
import {
  ChatError,
  type ChatRequest,
  ChatTelemetry,
  ErrorRateMonitor,
  ResilientChat,
  type StreamEvent
} from "../src/index.ts"
import { ScriptedChatModel } from "../src/testing/index.ts"

const request: ChatRequest.ChatRequest = {
  model: "gpt-test",
  messages: [{ role: "user", content: "a secret question" }],
  temperature: 0.5,
  maxTokens: 100
}
const attrs = { provider: "openai", model: "gpt-test" }
const base = { ...attrs, message: "x" }
const reset = new ChatError.StreamTruncated({ ...base, delivered: "Hel" })
const limited = new ChatError.RateLimited({ ...base, retryAfter: Duration.seconds(1) })

const delayed = (millis: number, event: StreamEvent.StreamEvent) =>
  Stream.fromEffect(Effect.as(Effect.sleep(millis), event))

// A stream as ResilientChat would emit it: a 429 retried, 300 ms to the first token, a mid-stream
// reset recovered, a fallback, then the finish with usage.
const recovered: Stream.Stream<StreamEvent.StreamEvent, ChatError.ChatError> = Stream.concat(
  Stream.make<Array<StreamEvent.StreamEvent>>({
    type: "retrying",
    attempt: 1,
    delay: Duration.seconds(1),
    error: limited
  }),
  Stream.concat(
    delayed(300, { type: "text-delta", delta: "Hel" }),
    Stream.make<Array<StreamEvent.StreamEvent>>(
      { type: "retrying", attempt: 2, delay: Duration.millis(500), error: reset },
      { type: "fallback", step: "non-streaming", error: reset },
      { type: "text-delta", delta: "lo" },
      { type: "finish", reason: "stop", usage: { inputTokens: 7, outputTokens: 2, totalTokens: 9 } }
    )
  )
)

const counter = (
  metric: Metric.Metric<number, Metric.CounterState<number>>,
  attributes: Record<string, string>
) => Effect.map(Metric.value(Metric.withAttributes(metric, attributes)), (s) => s.count)

const recordingTracer = () => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span(options) {
      const span = Tracer.nativeTracer.span(options)
      spans.push(span)
      return span
    }
  })
  return { spans, tracer }
}

describe("ChatTelemetry", () => {
  it.effect("counts requests, retries, recoveries, fallbacks and errors of a recovered stream", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.forkChild(
        Stream.runCollect(recovered.pipe(ChatTelemetry.observeStream("openai", request)))
      )
      yield* TestClock.adjust("300 millis")
      const events = yield* Fiber.join(fiber)
      assert.strictEqual(events.length, 6, "events pass through unchanged")

      assert.strictEqual(
        yield* counter(ChatTelemetry.requests, { ...attrs, operation: "stream", outcome: "success" }),
        1
      )
      assert.strictEqual(yield* counter(ChatTelemetry.retries, { ...attrs, tag: "RateLimited" }), 1)
      assert.strictEqual(yield* counter(ChatTelemetry.retries, { ...attrs, tag: "StreamTruncated" }), 1)
      // the reset's retry and the fallback both came after content: two mid-stream recoveries; the 429 did not
      assert.strictEqual(yield* counter(ChatTelemetry.midStreamRecoveries, attrs), 2)
      assert.strictEqual(yield* counter(ChatTelemetry.fallbacks, { ...attrs, step: "non-streaming" }), 1)
      assert.strictEqual(
        yield* counter(ChatTelemetry.errors, { ...attrs, tag: "StreamTruncated", final: "false" }),
        2
      )

      const ttft = yield* Metric.value(Metric.withAttributes(ChatTelemetry.timeToFirstToken, attrs))
      assert.deepStrictEqual([ttft.count, ttft.sum], [1, 300])
      const duration = yield* Metric.value(
        Metric.withAttributes(ChatTelemetry.duration, { ...attrs, operation: "stream" })
      )
      assert.deepStrictEqual([duration.count, duration.sum], [1, 300])
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))
  )

  it.effect("counts a failed stream by its final error and feeds the error-rate monitor", () =>
    Effect.gen(function* () {
      const monitor = yield* ErrorRateMonitor.ErrorRateMonitor
      const failing = Stream.concat(
        Stream.make<Array<StreamEvent.StreamEvent>>({ type: "text-delta", delta: "Hel" }),
        Stream.fail(new ChatError.QuotaExceeded(base))
      )
      const error = yield* Effect.flip(
        Stream.runDrain(failing.pipe(ChatTelemetry.observeStream("openai", request)))
      )
      assert.strictEqual(error._tag, "QuotaExceeded")
      assert.strictEqual(
        yield* counter(ChatTelemetry.requests, { ...attrs, operation: "stream", outcome: "failure" }),
        1
      )
      assert.strictEqual(
        yield* counter(ChatTelemetry.errors, { ...attrs, tag: "QuotaExceeded", final: "true" }),
        1
      )
      const second = yield* Effect.forkChild(
        Stream.runDrain(recovered.pipe(ChatTelemetry.observeStream("openai", request)))
      )
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(second)
      assert.deepStrictEqual(yield* monitor.status, { ratio: 0.5, failures: 1, total: 2, alerting: true })
    }).pipe(
      Effect.provide(ErrorRateMonitor.layer({ minSamples: 2, threshold: 0.5 })),
      Effect.provideService(Metric.MetricRegistry, new Map())
    )
  )

  it.effect("counts an interrupted stream as interrupted, not as a failure", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.forkChild(
        Stream.runDrain(Stream.never.pipe(ChatTelemetry.observeStream("openai", request)))
      )
      yield* Effect.yieldNow
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(
        yield* counter(ChatTelemetry.requests, { ...attrs, operation: "stream", outcome: "interrupted" }),
        1
      )
      assert.strictEqual(
        yield* counter(ChatTelemetry.requests, { ...attrs, operation: "stream", outcome: "failure" }),
        0
      )
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))
  )

  it.effect("wraps a stream in a span with the GenAI attributes and no message content", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recordingTracer()
      yield* Stream.runDrain(recovered.pipe(ChatTelemetry.observeStream("openai", request))).pipe(
        Effect.withTracer(tracer),
        Effect.forkChild,
        Effect.tap(() => TestClock.adjust("1 second")),
        Effect.flatMap(Fiber.join)
      )
      const span = spans.find((s) => s.name === "steadystream.chat.stream")
      assert.isDefined(span)
      const attributes = Object.fromEntries(span!.attributes)
      assert.deepInclude(attributes, {
        "gen_ai.system": "openai",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-test",
        "gen_ai.request.temperature": 0.5,
        "gen_ai.request.max_tokens": 100,
        "gen_ai.usage.input_tokens": 7,
        "gen_ai.usage.output_tokens": 2
      })
      assert.deepStrictEqual(attributes["gen_ai.response.finish_reasons"], ["stop"])
      assert.notInclude(JSON.stringify([...span!.attributes]), "secret question")
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))
  )

  it.effect("observeCall wraps the stream its observer reports on in the call's span", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recordingTracer()
      const observed = ChatTelemetry.observeCall(
        "openai",
        request
      )((observer) => Stream.tap(recovered, (event) => observer.events([event]) ?? Effect.void))
      yield* Stream.runDrain(observed).pipe(
        Effect.withTracer(tracer),
        Effect.forkChild,
        Effect.tap(() => TestClock.adjust("1 second")),
        Effect.flatMap(Fiber.join)
      )
      const span = spans.find((s) => s.name === "steadystream.chat.stream")
      assert.strictEqual(span?.attributes.get("gen_ai.request.model"), "gpt-test")
      assert.deepStrictEqual(span?.attributes.get("gen_ai.response.finish_reasons"), ["stop"])
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))
  )

  it.effect("observes a non-streaming call", () =>
    Effect.gen(function* () {
      const { spans, tracer } = recordingTracer()
      const answer = yield* Effect.succeed({ text: "hi", finishReason: "stop" as const }).pipe(
        ChatTelemetry.observeComplete("openai", request),
        Effect.withTracer(tracer)
      )
      assert.strictEqual(answer.text, "hi")
      assert.strictEqual(
        yield* counter(ChatTelemetry.requests, { ...attrs, operation: "complete", outcome: "success" }),
        1
      )
      assert.strictEqual(spans[0]?.name, "steadystream.chat.complete")
      assert.strictEqual(spans[0]?.attributes.get("gen_ai.request.model"), "gpt-test")
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))
  )
})

describe("ResilientChat's telemetry", () => {
  it.effect("counts a retried request once, with its retry and time to first token", () =>
    Effect.gen(function* () {
      const chat = yield* ResilientChat.ResilientChat
      const fiber = yield* Effect.forkChild(Stream.runCollect(chat.stream({ ...request, model: "m" })))
      yield* TestClock.adjust("1 minute")
      const events = yield* Fiber.join(fiber)
      assert.deepStrictEqual(
        events.map((e) => e.type),
        ["retrying", "text-delta", "text-delta", "finish"]
      )
      const scripted = { provider: "scripted", model: "m" }
      assert.strictEqual(
        yield* counter(ChatTelemetry.requests, { ...scripted, operation: "stream", outcome: "success" }),
        1
      )
      assert.strictEqual(yield* counter(ChatTelemetry.retries, { ...scripted, tag: "ServerError" }), 1)
      const ttft = yield* Metric.value(Metric.withAttributes(ChatTelemetry.timeToFirstToken, scripted))
      assert.deepStrictEqual([ttft.count, ttft.sum], [1, 2000])

      const { spans, tracer } = recordingTracer()
      const traced = yield* Effect.forkChild(
        Stream.runDrain(chat.stream({ ...request, model: "m" })).pipe(Effect.withTracer(tracer))
      )
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(traced)
      const request_ = spans.find((s) => s.name === "steadystream.chat.stream")
      const attempts = spans.filter((s) => s.name === "steadystream.chat.attempt")
      assert.deepStrictEqual(
        attempts.map((s) => [
          s.attributes.get("gen_ai.request.model"),
          s.attributes.get("steadystream.attempt.streaming")
        ]),
        [["m", true]]
      )
      assert.strictEqual(attempts[0]?.parent._tag === "Some" ? attempts[0].parent.value : undefined, request_)

      const answer = yield* chat.complete({ ...request, model: "m" })
      assert.strictEqual(answer.text, "abcdefg")
      assert.strictEqual(
        yield* counter(ChatTelemetry.requests, { ...scripted, operation: "complete", outcome: "success" }),
        1
      )
      assert.strictEqual(
        yield* counter(ChatTelemetry.requests, { ...scripted, operation: "stream", outcome: "success" }),
        2,
        "complete is not also counted as a stream"
      )
    }).pipe(
      Effect.provide(
        ResilientChat.layer({ retry: { jitter: false, baseDelay: "2 seconds" } }).pipe(
          Layer.provide(
            ScriptedChatModel.layer({
              script: [
                ScriptedChatModel.fail(
                  new ChatError.ServerError({ provider: "scripted", model: "m", message: "500" })
                ),
                ScriptedChatModel.stream(ScriptedChatModel.textEvents("abcdefg")),
                ScriptedChatModel.stream(ScriptedChatModel.textEvents("abcdefg")),
                ScriptedChatModel.stream(ScriptedChatModel.textEvents("abcdefg"))
              ]
            })
          )
        )
      ),
      Effect.provideService(Metric.MetricRegistry, new Map())
    )
  )
})
