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
import * as Preamble from "./Preamble.ts"

export type Verdict =
  | { readonly _tag: "Pending"; readonly detail?: string }
  | { readonly _tag: "Accept"; readonly skip: number }
  | { readonly _tag: "Reject"; readonly reason: RejectionReason; readonly detail: string }

const pending: Verdict = { _tag: "Pending" }
const accept = (skip: number): Verdict => ({ _tag: "Accept", skip })
const reject = (reason: RejectionReason, detail: string): Verdict => ({ _tag: "Reject", reason, detail })

/** How much of a continuation is read before deciding (unless it ends first). */
const window = 320
/** A head this long (and at least `decideWords` words) is enough to rule out a restart. */
const decideChars = 96
const decideWords = 16
/** How long a capitalised continuation is held before it is clear it does not open with a preamble. */
const preambleWait = 48
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

const wordPattern = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*/gu
const words = (text: string): Array<string> => (text.toLowerCase().match(wordPattern) ?? []) as Array<string>
const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}\p{M}]/u.test(c)

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
      !isWordChar(delivered[delivered.length - k - 1]) && /^[\p{L}\p{N}\p{M}]+\s*$/u.test(head.slice(0, k))
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

/** Whether the head opens with the delivered answer's first three words ("maybe": too few words yet). */
const sameOpening = (delivered: string, head: string): "yes" | "no" | "maybe" => {
  const d = words(delivered)
  const h = words(head)
  if (d.length < 3) return "no"
  for (let i = 0; i < Math.min(3, h.length); i++) {
    const last = i === h.length - 1
    if (h[i] !== d[i] && !(last && (d[i] as string).startsWith(h[i] as string))) return "no"
  }
  return h.length >= 3 && h[2] === d[2] ? "yes" : "maybe"
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
 * one (besides {@link sameOpening}): it repeats two of its phrases; most of
 * its first content words come from the delivered opening; or (`atBreak`: the
 * head follows the delivered text directly) it starts a capitalised word right
 * after a word or punctuation, where a continuation would have put a space, or
 * a capitalised common sentence opener ("The", "It", "Sure") in the middle of
 * a sentence.
 */
const restarted = (delivered: string, head: string, atBreak: boolean): boolean => {
  const d = words(delivered)
  const h = words(head)
  if (atBreak && /^\p{Lu}\p{Ll}/u.test(head)) {
    if (/[^\s([{"'\u201c\u2018\u00ab]$/u.test(delivered)) return true
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
  // A preamble about continuing is dropped first; what follows it is read like a continuation.
  const lead = Preamble.length(head, decided)
  if (lead === undefined) return pending
  // A capitalised start may still turn out to be a preamble ("Sure! Continuing…"): wait for its first words.
  if (!decided && lead === 0 && head.length < preambleWait && /^\p{Lu}/u.test(head)) return pending
  const rest = head.slice(lead)
  if (lead > 0 && rest.trim() === "") {
    return decided ? reject("unverifiable", "The continuation holds only a preamble") : pending
  }
  const verdict = afterLead(delivered, rest, lead, { final, minOverlap, decided })
  return verdict._tag === "Accept" ? accept(lead + verdict.skip) : verdict
}

const afterLead = (
  delivered: string,
  head: string,
  lead: number,
  options: { readonly final: boolean; readonly minOverlap: number; readonly decided: boolean }
): Verdict => {
  const { final, minOverlap, decided } = options
  // An exact replay: only what comes after it is new (whitespace folded for a long one).
  if (head.startsWith(delivered)) return accept(delivered.length)
  const d = fold(delivered)
  const h = fold(head)
  const long = d.text.length >= longEcho
  if (long && h.text.startsWith(d.text)) return accept(h.at[d.text.length] ?? head.length)
  if (delivered.startsWith(head) || (long && d.text.startsWith(h.text))) {
    if (!decided) return pending
    if (words(head).length >= 3) {
      return reject("restarted", "The continuation replays the delivered text and stops short")
    }
  }
  if (!decided && couldGrow(delivered, head, minOverlap)) return pending
  // An echo of the tail: the anchor, a repeated last sentence, a cut or repeated last word. Starting with
  // the answer's first words is a restart, unless it repeats more of the tail than its last word.
  const echo = echoAt(delivered, head, minOverlap, final)
  if (echo >= Math.max(minOverlap, 4)) return accept(echo)
  const opening = sameOpening(delivered, head)
  if (opening === "yes") {
    return reject("restarted", "The continuation starts the answer again instead of continuing it")
  }
  if (opening === "maybe" && !decided) return pending
  if (!decided && (head.length < decideChars || words(head).length < decideWords)) return pending
  // The anchor (the delivered tail, whitespace folded) after a few words the preamble pattern did not know.
  const tail = fold(anchor(delivered)).text
  if (tail.length >= longEcho) {
    const found = h.text.indexOf(tail)
    if (found !== -1 && found <= Preamble.maxLength) return accept(h.at[found + tail.length] ?? head.length)
  }
  // A repeated last word is trimmed once it is clear the rest does not restart the answer.
  if (restarted(delivered, head.slice(echo), lead === 0 && echo === 0)) {
    return reject("restarted", "The continuation starts the answer again instead of continuing it")
  }
  return accept(echo)
}
