/**
 * The built-in scenarios, by name, each with its one description: the
 * registry the fake-server CLI and the demo offer.
 *
 * @since 0.1.0
 */
import * as Continuations from "./Continuations.ts"
import * as ErrorBodies from "./ErrorBodies.ts"
import * as Faults from "./Faults.ts"
import * as Replies from "./Replies.ts"
import * as Step from "./Step.ts"
import * as Texts from "./Texts.ts"

interface Entry {
  /** One line for people: `--help`, start-up banners. */
  readonly description: string
  readonly scenario: Step.Scenario
}

const registry = {
  happy: { description: "every call succeeds", scenario: { steps: [] } },
  flaky: {
    description: "a 429 with Retry-After 1 s, then a connection reset mid-answer, then success",
    scenario: { steps: [ErrorBodies.rateLimited(Step.retryAfterSeconds(1)), Faults.resetAfter(5)] }
  },
  "rate-limited": {
    description: "two 429s with retry-after-ms 500, then success",
    scenario: {
      steps: [
        ErrorBodies.rateLimited(Step.retryAfterMillis(500)),
        ErrorBodies.rateLimited(Step.retryAfterMillis(500))
      ]
    }
  },
  outage: {
    description: "every call is a 503 (fails after retries and the non-streaming fallback)",
    scenario: { steps: [], fallback: ErrorBodies.overloaded() }
  },
  quota: {
    description: "429 insufficient_quota (not retryable: fails at once)",
    scenario: { steps: [], fallback: ErrorBodies.insufficientQuota }
  },
  stall: {
    description: "the first answer stalls after 4 chunks (keep-alives only) until the idle timeout",
    scenario: { steps: [Faults.stallAfter(4)] }
  },
  truncated: {
    description: "the first answer ends after 6 chunks without [DONE], then success",
    scenario: { steps: [Faults.closeAfter(6)] }
  },
  slow: {
    description: "every answer drips one chunk per 150 ms",
    scenario: { steps: [], fallback: Step.answer({ delay: "150 millis" }) }
  },
  unicode: {
    description: "multi-byte text with every frame split inside a character",
    scenario: {
      steps: [],
      text: Texts.unicodeText,
      fallback: Step.answer({ splitUtf8: true, chunkChars: 3 })
    }
  },
  rejected: {
    description:
      "a reset mid-answer, then a continuation that starts over in other words (rejected, none of it shown), then a verified one",
    scenario: { steps: [Faults.resetAfter(8), Continuations.restartsInOtherWords()] }
  },
  "cut-word": {
    description:
      'a reset inside a word ("…about sev"), then a continuation that repeats the cut word from its start ("seventy…")',
    scenario: {
      steps: [Faults.resetAfter(8, { chunkChars: 3 }), Continuations.repeatsCutWord({ chunkChars: 3 })]
    }
  },
  preamble: {
    description:
      'a reset mid-answer, then a continuation that opens with "Sure! Continuing from where I left off: "',
    scenario: { steps: [Faults.resetAfter(6), Continuations.opensWithPreamble()] }
  },
  "repeat-sentence": {
    description: "a reset mid-sentence, then a continuation that repeats that sentence from its start",
    scenario: { steps: [Faults.resetAfter(18), Continuations.repeatsLastSentence()] }
  },
  anchor: {
    description:
      "a reset mid-answer, then a continuation that first echoes the anchor the instruction quotes",
    scenario: { steps: [Faults.resetAfter(10), Continuations.echoesAnchor()] }
  },
  reasoning: {
    description:
      "a reasoning model: each answer streams 2 s of reasoning (a piece per 80 ms) before its text",
    scenario: { steps: [], fallback: Replies.reasoningFirst({ delay: "80 millis" }) }
  },
  refusal: {
    description: "the model refuses (delta.refusal): ContentFiltered with its words, never retried",
    scenario: { steps: [], fallback: Replies.refuses() }
  },
  "finish-error": {
    description:
      'an answer that ends with finish_reason "error" (no error object) after 6 chunks, then success',
    scenario: { steps: [Faults.finishErrorAfter(6)] }
  },
  openrouter: {
    description:
      'OpenRouter\'s shapes: processing comments, reasoning, then finish_reason "error" with an error object after 6 chunks, then success',
    scenario: {
      steps: [
        Faults.finishErrorAfter(6, {
          shape: "openrouter",
          reasoning: { field: "reasoning", text: "Thinking about the sea." },
          error: { code: 502, message: "Provider returned error" }
        })
      ],
      fallback: Replies.reasoningFirst(
        { field: "reasoning", text: "Thinking about the sea." },
        { shape: "openrouter" }
      )
    }
  },
  azure: {
    description:
      "Azure's shapes: a prompt-filter first chunk, filter results and annotations; a reset mid-answer, then success",
    scenario: { steps: [Faults.resetAfter(6, { shape: "azure" })], fallback: Step.answer({ shape: "azure" }) }
  },
  native: {
    description:
      "a vLLM-like server: a reset mid-answer; its continuation is exact with continue_final_message, otherwise it starts over (rejected), then a verified one",
    scenario: { steps: [Faults.resetAfter(6), Continuations.continuesNatively("continue_final_message")] }
  }
} satisfies Record<string, Entry>

/**
 * The names of the built-in scenarios.
 *
 * @since 0.1.0
 */
export type Name = keyof typeof registry

/**
 * The built-in scenario names, in a stable order.
 *
 * @since 0.1.0
 */
export const names: ReadonlyArray<Name> = Object.keys(registry) as Array<Name>

const project = <A>(f: (entry: Entry) => A): Readonly<Record<Name, A>> =>
  Object.fromEntries(names.map((name) => [name, f(registry[name])])) as Record<Name, A>

/**
 * Built-in scenarios for the CLI and the demo; what each does is in
 * {@link descriptions}.
 *
 * @since 0.1.0
 */
export const named: Readonly<Record<Name, Step.Scenario>> = project((entry) => entry.scenario)

/**
 * One line per built-in scenario saying what it does, for `--help` and
 * start-up banners.
 *
 * @since 0.1.0
 */
export const descriptions: Readonly<Record<Name, string>> = project((entry) => entry.description)

/**
 * Looks up a built-in scenario by name.
 *
 * @since 0.1.0
 */
export const fromName = (name: string): Step.Scenario | undefined =>
  Object.hasOwn(registry, name) ? named[name as Name] : undefined

/**
 * Every built-in scenario with its description, as one line for `--help`:
 * `happy = every call succeeds; flaky = …`.
 *
 * @since 0.1.0
 */
export const menu: string = names.map((name) => `${name} = ${descriptions[name]}`).join("; ")
