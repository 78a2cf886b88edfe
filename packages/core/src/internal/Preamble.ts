/**
 * A leading preamble about continuing ("Sure! Continuing from where I left
 * off: "): meta-talk a model adds before a continuation, which is never part
 * of the answer.
 *
 * @internal
 */

/** Where a preamble must end (and where an echo of the delivered tail may start). */
export const maxLength = 160

// Phrases about continuing that open a preamble (not words that genuine text uses in passing).
const metaPattern =
  /\b(?:continuing (?:from|where|on from|the (?:answer|response|reply|explanation|previous))|continuing:|(?:let me|i'll|i will|to) continue|pick(?:ing)? up (?:where|from)|left off|where (?:i|we) (?:stopped|were cut off)|as i was saying|(?:here(?:'s| is)|this is) the rest|rest of (?:the|my) (?:answer|response|reply)|resuming(?: (?:from|where|the))?)\b/i
// The end of a preamble, with at most one separating space (more belongs to the continuation).
const terminatorPattern = /:\s?|\.\.\.\s?|\u2026\s?|\n|[.!,]\s/g

/**
 * The length of a leading preamble about continuing (0 when none); undefined
 * while it may still be one (`decided`: no more text will come to tell).
 */
export const length = (head: string, decided: boolean): number | undefined => {
  const meta = metaPattern.exec(head.slice(0, maxLength))
  if (meta === null || meta.index > 60) return 0
  terminatorPattern.lastIndex = meta.index + meta[0].length
  const end = terminatorPattern.exec(head)
  if (end === null || end.index > maxLength) return decided ? 0 : undefined
  return end.index + end[0].length
}
