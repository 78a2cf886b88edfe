/**
 * Decides whether the head of a continuation answer verifiably continues the
 * delivered text, and how much of it repeats what was delivered.
 *
 * **What it detects** (on the head: at most `window` characters)
 *
 * - an exact replay of the delivered text (whitespace and quotes folded): its
 *   remainder is used;
 * - a restart: the head begins like the delivered answer (its first three
 *   words, or mostly its opening vocabulary) but does not reproduce it —
 *   rejected, whatever the words;
 * - an echo of the delivered tail (the anchor the instruction asks for, a
 *   repeated last sentence, a repeated partial word at the cut) at the start,
 *   or after a short preamble: trimmed;
 * - a preamble about continuing ("Sure! Continuing from where I left off:"):
 *   dropped.
 *
 * **What it cannot detect**: a continuation that says again, in new words,
 * something from the middle of the delivered text; a genuine continuation that
 * starts by repeating the delivered tail (it is trimmed); a restart whose
 * opening shares neither its first words nor most of its vocabulary with the
 * delivered answer.
 *
 * @internal
 */
import type { RejectionReason } from "../ChatError.ts"

export type Verdict =
  | { readonly _tag: "Pending"; readonly detail?: string }
  | { readonly _tag: "Accept"; readonly skip: number }
  | { readonly _tag: "Reject"; readonly reason: RejectionReason; readonly detail: string }

const pending: Verdict = { _tag: "Pending" }
const accept = (skip: number): Verdict => ({ _tag: "Accept", skip })
const reject = (reason: RejectionReason, detail: string): Verdict => ({ _tag: "Reject", reason, detail })

/** How much of a continuation is read before deciding (unless it ends first). */
export const window = 320
/** A head this long (and at least `decideWords` words) is enough to rule out a restart. */
const decideChars = 96
const decideWords = 16
/** Where an echo of the tail may start (after a preamble). */
const preambleChars = 160
/** The shortest tail echo recognised after a preamble. */
const longEcho = 16

/**
 * The anchor a continuation by instruction is asked to repeat first: the last
 * 40 or so characters of the delivered text, starting at a word.
 */
export const anchor = (delivered: string): string => {
  const tail = delivered.slice(-40)
  const start = tail.search(/(?<=\s)\S/u)
  return (start > 0 && delivered.length > 40 ? tail.slice(start) : tail).trimStart()
}

/** A string with whitespace runs folded to one space and curly quotes made straight, and where each char came from. */
interface Folded {
  readonly text: string
  /** `at[i]` is the index in the original of folded char `i`; `at[text.length]` is the original's length. */
  readonly at: ReadonlyArray<number>
}

const fold = (raw: string): Folded => {
  let text = ""
  const at: Array<number> = []
  for (let i = 0; i < raw.length; i++) {
    let c = raw[i] as string
    if (/\s/.test(c)) {
      if (text.endsWith(" ")) continue
      c = " "
    } else if (c === "\u2018" || c === "\u2019") c = "'"
    else if (c === "\u201c" || c === "\u201d") c = '"'
    text += c
    at.push(i)
  }
  at.push(raw.length)
  return { text, at }
}

const wordPattern = /[\p{L}\p{N}]+/gu
const words = (text: string): Array<string> => (text.toLowerCase().match(wordPattern) ?? []) as Array<string>
const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c)

const metaPattern =
  /\b(continu\w*|left off|pick(?:ing)? up|resum\w*|where (?:i|we) (?:stopped|were)|as i was saying|rest of (?:the|my) (?:answer|response|reply)|cut off|here(?:'s| is) the rest)\b/i
const terminatorPattern = /(?::|\.\.\.|\u2026|\n|\.\s|!\s|,\s)\s*/g

/** The length of a leading preamble about continuing (0 when none); undefined while it may still be one. */
const preamble = (head: string, final: boolean): number | undefined => {
  const meta = metaPattern.exec(head.slice(0, preambleChars))
  if (meta === null) return 0
  terminatorPattern.lastIndex = meta.index + meta[0].length
  const end = terminatorPattern.exec(head)
  if (end === null || end.index > preambleChars) return final || head.length >= window ? 0 : undefined
  return end.index + end[0].length
}

/**
 * The length of the longest echo of the delivered tail at the start of
 * `head` (exact characters): at least `min` long, all of the delivered text,
 * or the delivered text's last word (cut at the break, or repeated whole);
 * 0 when none.
 */
const echoAt = (delivered: string, head: string, min: number, final: boolean): number => {
  for (let k = Math.min(delivered.length, head.length); k >= 1; k--) {
    if (!delivered.endsWith(head.slice(0, k))) continue
    if (k >= min || k === delivered.length) return k
    const lastWord =
      !isWordChar(delivered[delivered.length - k - 1]) && /^[\p{L}\p{N}]+$/u.test(head.slice(0, k))
    if (lastWord && (head.length > k || final)) return k
  }
  return 0
}

/** Whether more of the continuation could still make a longer echo than what `head` shows. */
const couldGrow = (delivered: string, head: string, min: number): boolean => {
  for (let at = delivered.indexOf(head); at !== -1; at = delivered.indexOf(head, at + 1)) {
    const suffix = delivered.length - at
    if (suffix > head.length && (suffix >= min || at === 0)) return true
  }
  return false
}

/** Common words that open a sentence, rarely written capitalised inside one. */
const openers = new Set(
  (
    "the a an it its this that these those there here our we i you they he she in on at as when while " +
    "sure certainly yes no well okay ok so to for from with about approximately roughly around nearly " +
    "almost overall generally basically simply let of"
  ).split(" ")
)

/**
 * Whether the head begins an answer again instead of continuing the delivered
 * one: its first three words are the delivered answer's first three; most of
 * its first content words come from the delivered opening; or (`atBreak`: the
 * head follows the delivered text directly) it starts a capitalised word right
 * after a word or punctuation, where a continuation would have put a space, or
 * a capitalised common sentence opener ("The", "It", "Sure") in the middle of
 * a sentence.
 */
const restarted = (delivered: string, head: string, atBreak: boolean): boolean => {
  const d = words(delivered)
  const h = words(head)
  if (d.length >= 3 && h.length >= 3 && h[0] === d[0] && h[1] === d[1] && h[2] === d[2]) return true
  if (atBreak && /^\p{Lu}\p{Ll}/u.test(head)) {
    if (/[\p{L}\p{N}.,;:!?]$/u.test(delivered)) return true
    if (/[\p{Ll},]\s+$/u.test(delivered) && openers.has(h[0] ?? "")) return true
  }
  const first = h.slice(0, decideWords)
  // Two phrases of the delivered text said again (pairs of words, one of them a content word).
  const pairs = new Set<string>()
  for (let i = 1; i < d.length; i++) pairs.add(`${d[i - 1]} ${d[i]}`)
  const repeated = new Set<string>()
  for (let i = 1; i < first.length; i++) {
    const pair = `${first[i - 1]} ${first[i]}`
    if (pairs.has(pair) && (isContent(first[i - 1] as string) || isContent(first[i] as string)))
      repeated.add(pair)
  }
  if (repeated.size >= 2) return true
  const opening = new Set(d.slice(0, 40))
  const content = first.filter(isContent)
  if (content.length < 2) return false
  return content.filter((w) => opening.has(w)).length / content.length >= 0.6
}

const isContent = (word: string) => word.length >= 4 || /\d/.test(word)

/**
 * The verdict on `head` (the continuation's text so far) after `delivered`.
 * `final`: the continuation has ended, decide now. `minOverlap`: the
 * shortest tail echo trimmed at the start (shorter ones only when they
 * complete a word cut at the break).
 */
export const verify = (
  delivered: string,
  head: string,
  options: { readonly final: boolean; readonly minOverlap: number }
): Verdict => {
  const { final, minOverlap } = options
  if (head.length === 0) return final ? accept(0) : pending
  const decided = final || head.length >= window
  // An exact replay: only what comes after it is new (whitespace folded for a long one).
  if (head.startsWith(delivered)) return accept(delivered.length)
  const d = fold(delivered)
  const h = fold(head)
  const long = d.text.length >= longEcho
  if (long && h.text.startsWith(d.text)) return accept(h.at[d.text.length] ?? head.length)
  if (delivered.startsWith(head) || (long && d.text.startsWith(h.text))) {
    if (!decided) return pending
    if (words(head).length >= 3)
      return reject("restarted", "The continuation replays the delivered text and stops short")
  }
  if (!decided && couldGrow(delivered, head, minOverlap)) return pending
  const echo = echoAt(delivered, head, minOverlap, final)
  if (echo > 0) return accept(echo)
  // A preamble about continuing is dropped, and an echo of the tail after it (anchor, last sentence, cut word).
  const lead = preamble(head, decided)
  if (lead === undefined) return pending
  const rest = head.slice(lead)
  if (lead > 0) {
    const after = echoAt(delivered, rest, minOverlap, final)
    if (after > 0) return accept(lead + after)
  }
  if (!decided && (rest.length < decideChars || words(rest).length < decideWords)) return pending
  // The anchor (the delivered tail, whitespace folded) after a preamble the pattern did not recognise.
  const tail = fold(anchor(delivered)).text
  if (tail.length >= longEcho) {
    const found = h.text.indexOf(tail)
    if (found !== -1 && found <= preambleChars) return accept(h.at[found + tail.length] ?? head.length)
  }
  if (restarted(delivered, rest, lead === 0)) {
    return reject("restarted", "The continuation starts the answer again instead of continuing it")
  }
  if (lead > 0 && rest.trim() === "") return reject("unverifiable", "The continuation holds only a preamble")
  return accept(lead)
}
