/**
 * Answers that continue badly, as real models do when asked to continue a
 * broken answer: one constructor per misbehaviour. Each applies only to a
 * continuation request (an assistant prefix last); any other request gets
 * the scripted text as usual.
 *
 * @since 0.2.0
 */
import * as Step from "./Step.ts"
import * as Texts from "./Texts.ts"

/**
 * The `Answer` options a continuation constructor takes besides the
 * continuation itself.
 *
 * @since 0.2.0
 */
export type ContinuationOptions = Omit<Step.Answer, "_tag" | "continuation">

/**
 * Starts the answer over in other words (default `restartText`: "The sea
 * covers roughly 71% of our planet's surface…") instead of continuing.
 *
 * @since 0.2.0
 */
export const restartsInOtherWords = (
  options: ContinuationOptions & { readonly restartText?: string } = {}
): Step.Answer => {
  const { restartText, ...rest } = options
  return Step.answer({
    ...rest,
    continuation: restartText === undefined ? { _tag: "Restart" } : { _tag: "Restart", text: restartText }
  })
}

/**
 * Starts the answer over with the same words: the whole text again.
 *
 * @since 0.2.0
 */
export const replaysFromStart = (options: ContinuationOptions = {}): Step.Answer =>
  Step.answer({ ...options, continuation: { _tag: "Replay" } })

/** An answer that continues after an optional preamble and echo. */
const continuing = (
  options: ContinuationOptions & { readonly preamble?: string },
  echo?: Step.Echo
): Step.Answer => {
  const { preamble, ...rest } = options
  return Step.answer({
    ...rest,
    continuation: {
      _tag: "Continue",
      ...(preamble === undefined ? {} : { preamble }),
      ...(echo === undefined ? {} : { echo })
    }
  })
}

/**
 * Repeats the word cut at the break from its start ("…about sev" continued
 * as "seventy percent…"), then the rest. At a break between words, the last
 * word is repeated whole.
 *
 * @since 0.2.0
 */
export const repeatsCutWord = (options: ContinuationOptions = {}): Step.Answer =>
  continuing(options, "cut-word")

/**
 * Repeats the last sentence of the prefix, then the rest.
 *
 * @since 0.2.0
 */
export const repeatsLastSentence = (options: ContinuationOptions = {}): Step.Answer =>
  continuing(options, "last-sentence")

/**
 * Begins with the anchor the continuation instruction asks for (the quoted
 * tail of the prefix), then the rest; after `preamble` when one is given.
 *
 * @since 0.2.0
 */
export const echoesAnchor = (
  options: ContinuationOptions & { readonly preamble?: string } = {}
): Step.Answer => continuing(options, "anchor")

/**
 * Opens with a preamble about continuing (default `preambleText`: "Sure!
 * Continuing from where I left off: "), then the rest.
 *
 * @since 0.2.0
 */
export const opensWithPreamble = (
  options: ContinuationOptions & { readonly preamble?: string } = {}
): Step.Answer => continuing({ ...options, preamble: options.preamble ?? Texts.preambleText })

/**
 * A server that continues a final assistant message natively: exactly the
 * rest when the request carries `field` (`continue_final_message` with
 * `add_generation_prompt: false`, or `prefix: true` on that message), a
 * restart in other words when it does not, and vLLM's 400 for
 * `continue_final_message` without `add_generation_prompt: false`.
 *
 * @since 0.2.0
 */
export const continuesNatively = (field: Step.NativeField, options: ContinuationOptions = {}): Step.Answer =>
  Step.answer({ ...options, continuation: { _tag: "Native", field } })
