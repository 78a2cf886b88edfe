/**
 * Answers that are more than text: a reasoning model's thinking before its
 * answer, and a model that refuses.
 *
 * @since 0.2.0
 */
import type * as Faults from "./Faults.ts"
import * as Step from "./Step.ts"
import * as Texts from "./Texts.ts"

/**
 * An answer that streams a reasoning phase first (default: `reasoningText`
 * as `delta.reasoning_content`, one word per piece, each after the answer's
 * `delay`), then its text.
 *
 * **Gotchas**
 *
 * A reasoning phase longer than the client's first-token or idle deadline
 * is not a stall: each piece is an event. Give `reasoning.delay` to pace it.
 *
 * @since 0.2.0
 */
export const reasoningFirst = (
  reasoning: Step.Reasoning = {},
  options: Omit<Step.Answer, "_tag" | "reasoning"> = {}
): Step.Answer => Step.answer({ ...options, reasoning })

/**
 * A refusal: `refusal` (default `refusalText`) as `delta.refusal` pieces
 * with no content and `finish_reason: "stop"` (non-streamed:
 * `message.refusal` with `content: null`).
 *
 * @since 0.2.0
 */
export const refuses = (
  refusal: string = Texts.refusalText,
  options: Omit<Faults.AnswerOptions, "refusal"> = {}
): Step.Answer => Step.answer({ ...options, refusal })
