/**
 * Answers that break part-way: one constructor per `Fault`, each counting
 * `afterChunks` content chunks before it strikes.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as ErrorBodies from "./ErrorBodies.ts"
import * as Step from "./Step.ts"

/**
 * The `Answer` options a fault constructor takes besides the fault itself.
 *
 * @since 0.1.0
 */
export type AnswerOptions = Omit<Step.Answer, "_tag" | "fault">

/**
 * An answer whose connection is reset after `afterChunks` content chunks.
 *
 * @since 0.1.0
 */
export const resetAfter = (afterChunks: number, options: AnswerOptions = {}): Step.Answer =>
  Step.answer({ ...options, fault: { _tag: "Reset", afterChunks } })

/**
 * An answer whose body ends cleanly after `afterChunks` content chunks,
 * without finish reason and without `[DONE]`.
 *
 * @since 0.1.0
 */
export const closeAfter = (afterChunks: number, options: AnswerOptions = {}): Step.Answer =>
  Step.answer({ ...options, fault: { _tag: "Close", afterChunks } })

/**
 * An answer that stalls after `afterChunks` content chunks, sending only
 * `: keep-alive` comments every `keepAlive` (default: the server's
 * `keepAlive`, 1 second unless configured).
 *
 * @since 0.1.0
 */
export const stallAfter = (
  afterChunks: number,
  options: AnswerOptions & { readonly keepAlive?: Duration.Input } = {}
): Step.Answer => {
  const { keepAlive, ...rest } = options
  return Step.answer({
    ...rest,
    fault:
      keepAlive === undefined ? { _tag: "Stall", afterChunks } : { _tag: "Stall", afterChunks, keepAlive }
  })
}

/**
 * An answer interrupted after `afterChunks` content chunks by an in-band
 * `data: {"error": …}` frame (default: a `server_error`).
 *
 * @since 0.1.0
 */
export const errorFrameAfter = (
  afterChunks: number,
  error: Step.ErrorBody = ErrorBodies.serverErrorBody,
  options: AnswerOptions = {}
): Step.Answer => Step.answer({ ...options, fault: { _tag: "ErrorFrame", afterChunks, error } })

/**
 * An answer broken after `afterChunks` content chunks by a frame that is not
 * valid JSON, or whose payload is `data` (a non-streamed answer's whole body
 * is then `data`).
 *
 * @since 0.1.0
 */
export const malformedAfter = (
  afterChunks: number,
  options: AnswerOptions & { readonly data?: string } = {}
): Step.Answer => {
  const { data, ...rest } = options
  return Step.answer({
    ...rest,
    fault: data === undefined ? { _tag: "Malformed", afterChunks } : { _tag: "Malformed", afterChunks, data }
  })
}

/**
 * An answer whose generation fails on the server's side after `afterChunks`
 * content chunks: a chunk with `finish_reason: "error"` (and OpenRouter's
 * top-level `error` object when `error` is given), then `data: [DONE]`. A
 * non-streamed answer is a 200 whose choice has `finish_reason: "error"`.
 *
 * @since 0.2.0
 */
export const finishErrorAfter = (
  afterChunks: number,
  options: AnswerOptions & { readonly error?: Step.InBandError } = {}
): Step.Answer => {
  const { error, ...rest } = options
  return Step.answer({
    ...rest,
    fault:
      error === undefined ? { _tag: "FinishError", afterChunks } : { _tag: "FinishError", afterChunks, error }
  })
}
