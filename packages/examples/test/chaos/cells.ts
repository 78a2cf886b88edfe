/**
 * The fault matrix: every `FakeOpenAiServer` fault kind × the phase of the
 * call it hits, as server scripts with the outcome the design documents.
 */
import { type ChatError, FallbackStep, type ResiliencePolicy } from "@steadystream/core"
import type { OpenAiChatModel } from "@steadystream/openai-adapter"
import { FakeScenario } from "@steadystream/openai-adapter/testing"
import { fastPolicy } from "./support.ts"

/**
 * Where the fault hits:
 * - `before-headers`: the first request fails before any response body.
 * - `before-content`: the first streamed body fails before its first content chunk.
 * - `mid-stream`: after 5 chunks were delivered (request faults hit the
 *   continuation request that follows a reset after 5 chunks).
 * - `fallback`: the primary model fails non-retryably (context length), the
 *   chain moves to `FallbackStep.model("gpt-fake-b")`, and the fault hits that
 *   step (request faults on its request, body faults after 5 chunks).
 */
export type Phase = "before-headers" | "before-content" | "mid-stream" | "fallback"

export const phases: ReadonlyArray<Phase> = ["before-headers", "before-content", "mid-stream", "fallback"]

/** The documented end of a cell: the exact scripted text, or a typed error. */
export type Expect = { readonly _tag: "Text" } | { readonly _tag: "Error"; readonly tag: ChatError.Tag }

export interface Cell {
  readonly kind: string
  readonly phase: Phase
  readonly steps: ReadonlyArray<FakeScenario.Step>
  readonly fallback?: FakeScenario.Step
  readonly text: string
  readonly policy: ResiliencePolicy.ResiliencePolicy
  /** How the adapter speaks to the server (default: OpenAI's dialect). */
  readonly dialect: OpenAiChatModel.DialectOptions
  readonly expect: Expect
  /** Whether a `fallback` event to this step name must appear. */
  readonly fallbackStep: string | undefined
}

const text = FakeScenario.defaultText
const exact: Expect = { _tag: "Text" }
const fails = (tag: ChatError.Tag): Expect => ({ _tag: "Error", tag })

const fallbackPolicy: ResiliencePolicy.ResiliencePolicy = {
  ...fastPolicy,
  fallback: [FallbackStep.model("gpt-fake-b")]
}

/** A fault on a request: it happens before a response body exists. */
interface RequestFault {
  readonly kind: string
  readonly step: FakeScenario.Step
  readonly expect: Expect
}

const requestFaults: ReadonlyArray<RequestFault> = [
  {
    kind: "429 retry-after-ms",
    step: FakeScenario.rateLimited(FakeScenario.retryAfterMillis(20)),
    expect: exact
  },
  { kind: "429 insufficient_quota", step: FakeScenario.insufficientQuota, expect: fails("QuotaExceeded") },
  { kind: "401 unauthorized", step: FakeScenario.unauthorized, expect: fails("AuthenticationFailed") },
  {
    kind: "400 context length",
    step: FakeScenario.contextLengthExceeded,
    expect: fails("ContextLengthExceeded")
  },
  { kind: "500 server error", step: FakeScenario.serverError(), expect: exact },
  { kind: "503 overloaded", step: FakeScenario.overloaded(), expect: exact },
  { kind: "reset before headers", step: FakeScenario.resetBeforeHeaders, expect: exact },
  // The model refuses (delta.refusal): never retried, never an empty success.
  { kind: "refusal", step: FakeScenario.refuses(), expect: fails("ContentFiltered") }
]

/** A fault inside a streamed body, after `n` content chunks. */
interface BodyFault {
  readonly kind: string
  readonly at: (afterChunks: number) => FakeScenario.Answer
  readonly expect: Expect
  readonly text?: string
  /** What answers the recovery request (default: a plain answer). */
  readonly recovery?: FakeScenario.Answer
  readonly dialect?: OpenAiChatModel.DialectOptions
}

const inBandQuota: FakeScenario.ErrorBody = {
  message: "You exceeded your current quota, please check your plan and billing details.",
  type: "insufficient_quota",
  code: "insufficient_quota"
}

const inBandRateLimit: FakeScenario.ErrorBody = {
  message: "Rate limit reached for requests",
  type: "requests",
  code: "rate_limit_exceeded"
}

/** A reset after `n` chunks, then a continuation answered by `recovery` (in the server's `dialect`). */
const afterReset = (
  kind: string,
  recovery: FakeScenario.Answer,
  dialect?: OpenAiChatModel.DialectOptions
): BodyFault => ({
  kind,
  at: (n) => FakeScenario.resetAfter(n),
  recovery,
  expect: exact,
  ...(dialect === undefined ? {} : { dialect })
})

const bodyFaults: ReadonlyArray<BodyFault> = [
  { kind: "reset (RST)", at: (n) => FakeScenario.resetAfter(n), expect: exact },
  { kind: "close without [DONE]", at: (n) => FakeScenario.closeAfter(n), expect: exact },
  { kind: "stall (keep-alives only)", at: (n) => FakeScenario.stallAfter(n), expect: exact },
  { kind: "in-band server_error frame", at: (n) => FakeScenario.errorFrameAfter(n), expect: exact },
  {
    kind: "in-band rate-limit frame",
    at: (n) => FakeScenario.errorFrameAfter(n, inBandRateLimit),
    expect: exact
  },
  {
    kind: "in-band quota frame",
    at: (n) => FakeScenario.errorFrameAfter(n, inBandQuota),
    expect: fails("QuotaExceeded")
  },
  { kind: "malformed JSON frame", at: (n) => FakeScenario.malformedAfter(n), expect: exact },
  {
    kind: "slow drip + reset",
    at: (n) => FakeScenario.resetAfter(n, { delay: "3 millis" }),
    recovery: FakeScenario.answer({ delay: "3 millis" }),
    expect: exact
  },
  {
    kind: "split UTF-8 + reset",
    text: FakeScenario.unicodeText,
    at: (n) => FakeScenario.resetAfter(n, { splitUtf8: true, chunkChars: 3 }),
    recovery: FakeScenario.answer({ splitUtf8: true, chunkChars: 3 }),
    expect: exact
  },
  {
    kind: "reset + 7-char overlap",
    at: (n) => FakeScenario.resetAfter(n),
    recovery: FakeScenario.answer({ overlap: { chars: 7 } }),
    expect: exact
  },
  {
    kind: "reset + 2-word overlap",
    at: (n) => FakeScenario.resetAfter(n),
    recovery: FakeScenario.answer({ overlap: { words: 2 } }),
    expect: exact
  },
  // Continuations that misbehave as real models do: verified, trimmed or rejected, never shown twice.
  afterReset("reset + restart in other words", FakeScenario.restartsInOtherWords()),
  afterReset("reset + replay from the start", FakeScenario.replaysFromStart()),
  // 5 chunks of 5 characters end inside "seventy": "…about seve".
  {
    ...afterReset("reset mid-word + cut word repeated", FakeScenario.repeatsCutWord({ chunkChars: 5 })),
    at: (n) => FakeScenario.resetAfter(n, { chunkChars: 5 })
  },
  afterReset("reset + last sentence repeated", FakeScenario.repeatsLastSentence()),
  afterReset("reset + anchor echoed", FakeScenario.echoesAnchor()),
  afterReset("reset + preamble", FakeScenario.opensWithPreamble()),
  afterReset(
    "reset + preamble + anchor",
    FakeScenario.echoesAnchor({ preamble: "Certainly, picking up where I left off: " })
  ),
  afterReset("reset + native continuation (vLLM)", FakeScenario.continuesNatively("continue_final_message"), {
    continuation: "continue-final-message"
  }),
  afterReset("reset + native continuation (prefix)", FakeScenario.continuesNatively("prefix"), {
    continuation: "prefix"
  }),
  // The server continues natively but the client asks by instruction: the model starts over.
  afterReset("reset + native server asked by instruction", FakeScenario.continuesNatively("prefix")),
  // The wire as other servers speak it.
  { kind: 'finish_reason "error"', at: (n) => FakeScenario.finishErrorAfter(n), expect: exact },
  {
    kind: 'OpenRouter finish_reason "error" + error object',
    at: (n) =>
      FakeScenario.finishErrorAfter(n, {
        shape: "openrouter",
        error: { code: 502, message: "Provider returned error" }
      }),
    recovery: FakeScenario.answer({ shape: "openrouter" }),
    expect: exact
  },
  {
    kind: "Azure shapes + reset",
    at: (n) => FakeScenario.resetAfter(n, { shape: "azure" }),
    recovery: FakeScenario.answer({ shape: "azure" }),
    expect: exact
  },
  {
    // About 375 ms of reasoning per answer, longer than the 250 ms first-token and idle deadlines.
    kind: "reasoning longer than the deadlines + reset",
    at: (n) => FakeScenario.resetAfter(n, { reasoning: { delay: "15 millis" } }),
    recovery: FakeScenario.reasoningFirst({ delay: "15 millis" }),
    expect: exact
  }
]

const cell = (
  kind: string,
  phase: Phase,
  steps: ReadonlyArray<FakeScenario.Step>,
  expect: Expect,
  options: {
    readonly text?: string
    readonly fallback?: FakeScenario.Step
    readonly dialect?: OpenAiChatModel.DialectOptions
  } = {}
): Cell => ({
  kind,
  phase,
  steps,
  text: options.text ?? text,
  ...(options.fallback === undefined ? {} : { fallback: options.fallback }),
  policy: phase === "fallback" ? fallbackPolicy : fastPolicy,
  dialect: options.dialect ?? {},
  expect,
  fallbackStep: phase === "fallback" ? "model:gpt-fake-b" : undefined
})

const primaryGone = FakeScenario.contextLengthExceeded

/** Every cell of the matrix; `undefined` where a fault cannot happen in that phase. */
export const matrix: ReadonlyArray<{
  readonly kind: string
  readonly cells: ReadonlyArray<Cell | undefined>
}> = [
  ...requestFaults.map((fault) => ({
    kind: fault.kind,
    cells: [
      cell(fault.kind, "before-headers", [fault.step], fault.expect),
      undefined,
      cell(fault.kind, "mid-stream", [FakeScenario.resetAfter(5), fault.step], fault.expect),
      cell(fault.kind, "fallback", [primaryGone, fault.step], fault.expect)
    ]
  })),
  ...bodyFaults.map((fault) => {
    const recovery = fault.recovery ?? FakeScenario.answer()
    const options = {
      ...(fault.text === undefined ? {} : { text: fault.text }),
      ...(fault.dialect === undefined ? {} : { dialect: fault.dialect })
    }
    return {
      kind: fault.kind,
      cells: [
        undefined,
        cell(fault.kind, "before-content", [fault.at(0), recovery], fault.expect, options),
        cell(fault.kind, "mid-stream", [fault.at(5), recovery], fault.expect, options),
        cell(fault.kind, "fallback", [primaryGone, fault.at(5), recovery], fault.expect, options)
      ]
    }
  }),
  {
    // Every call fails: the retry budget and the non-streaming fallback are spent.
    kind: "503 on every call",
    cells: [
      cell("503 on every call", "before-headers", [], fails("Overloaded"), {
        fallback: FakeScenario.overloaded()
      }),
      undefined,
      cell("503 on every call", "mid-stream", [FakeScenario.resetAfter(5)], fails("Overloaded"), {
        fallback: FakeScenario.overloaded()
      }),
      cell("503 on every call", "fallback", [primaryGone], fails("Overloaded"), {
        fallback: FakeScenario.overloaded()
      })
    ]
  },
  {
    // Every call delivers 3 more chunks, then resets: progress, but never a finish. The call
    // fails with the last error: from the non-streaming fallback (its body broke) when the
    // chain has it, else from the last streamed attempt.
    kind: "reset on every call",
    cells: [
      undefined,
      cell("reset on every call", "before-content", [], fails("ConnectionFailed"), {
        fallback: FakeScenario.resetAfter(0)
      }),
      cell("reset on every call", "mid-stream", [], fails("ConnectionFailed"), {
        fallback: FakeScenario.resetAfter(3)
      }),
      cell("reset on every call", "fallback", [primaryGone], fails("StreamTruncated"), {
        fallback: FakeScenario.resetAfter(3)
      })
    ]
  },
  {
    // Every continuation starts the answer over: each is rejected, none of it shown, until the budget
    // is spent. The consumer keeps the verified text delivered before the break.
    kind: "restart on every continuation",
    cells: [
      undefined,
      undefined,
      cell(
        "restart on every continuation",
        "mid-stream",
        [FakeScenario.resetAfter(5)],
        fails("ContinuationRejected"),
        { fallback: FakeScenario.restartsInOtherWords() }
      ),
      cell(
        "restart on every continuation",
        "fallback",
        [primaryGone, FakeScenario.resetAfter(5)],
        fails("ContinuationRejected"),
        { fallback: FakeScenario.restartsInOtherWords() }
      )
    ]
  }
]

export const cells: ReadonlyArray<Cell> = matrix.flatMap((row) =>
  row.cells.filter((cell): cell is Cell => cell !== undefined)
)
