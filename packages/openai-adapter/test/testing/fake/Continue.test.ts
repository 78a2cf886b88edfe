import { assert, describe, it } from "@effect/vitest"
import * as Continue from "../../../src/testing/fake/Continue.ts"
import type * as Step from "../../../src/testing/fake/Step.ts"
import * as Texts from "../../../src/testing/fake/Texts.ts"

const full = Texts.defaultText
const prefix =
  "The sea covers about seventy percent of the Earth and holds most of its water. Its currents ca"
const rest = full.slice(prefix.length)
const texts = { full, rest, overlap: "" }
const request = (body: unknown = {}, instructions: ReadonlyArray<string> = []): Continue.Request => ({
  prefix,
  instructions,
  body
})
const textOf = (style: Step.Continuation, req: Continue.Request = request()): string => {
  const answer = Continue.answer(style, req, texts)
  assert.strictEqual(answer._tag, "Text")
  return answer._tag === "Text" ? answer.text : ""
}

describe("Continue", () => {
  it("finds the cut word from its start, or the last whole word at a boundary", () => {
    assert.strictEqual(Continue.cutWord("The sea covers about sev"), "sev")
    assert.strictEqual(Continue.cutWord("The sea covers about "), "about ")
    assert.strictEqual(Continue.cutWord("of its water. "), "water. ")
    assert.strictEqual(Continue.cutWord("Café crè"), "crè")
    assert.strictEqual(Continue.cutWord(""), "")
  })

  it("finds the sentence the prefix breaks in, or the last complete one", () => {
    assert.strictEqual(Continue.lastSentence(prefix), "Its currents ca")
    assert.strictEqual(Continue.lastSentence("One two. Three four. "), "Three four. ")
    assert.strictEqual(Continue.lastSentence("Only one sentence so far"), "Only one sentence so far")
  })

  it("takes the anchor quoted in the instruction, else the last ~40 characters from a word", () => {
    const instruction = `Continue. Begin by repeating, verbatim: ${JSON.stringify("its water. Its currents ca")}; then go on.`
    assert.strictEqual(Continue.anchorOf(prefix, [instruction]), "its water. Its currents ca")
    // A quoted string the prefix does not end with is not the anchor.
    assert.strictEqual(Continue.anchorOf(prefix, ['Say "hello"']), "most of its water. Its currents ca")
    assert.strictEqual(Continue.anchorOf("Short one", []), "Short one")
  })

  it("continues exactly by default, with the scripted overlap", () => {
    assert.strictEqual(textOf({ _tag: "Continue" }), rest)
    const withOverlap = Continue.answer({ _tag: "Continue" }, request(), { ...texts, overlap: "s ca" })
    assert.deepStrictEqual(withOverlap, { _tag: "Text", text: `s ca${rest}` })
  })

  it("misbehaves as asked: echoes, preambles, restarts and replays", () => {
    assert.strictEqual(textOf({ _tag: "Continue", echo: "cut-word" }), `ca${rest}`)
    assert.isTrue(textOf({ _tag: "Continue", echo: "cut-word" }).startsWith("carry heat"))
    assert.strictEqual(textOf({ _tag: "Continue", echo: "last-sentence" }), `Its currents ca${rest}`)
    assert.strictEqual(
      textOf({ _tag: "Continue", echo: "anchor" }, request({}, [JSON.stringify("rrents ca")])),
      `rrents ca${rest}`
    )
    assert.strictEqual(
      textOf({ _tag: "Continue", preamble: Texts.preambleText, echo: "anchor" }),
      `${Texts.preambleText}most of its water. Its currents ca${rest}`
    )
    assert.strictEqual(textOf({ _tag: "Restart" }), Texts.restartText)
    assert.strictEqual(textOf({ _tag: "Restart", text: "Oceans are big." }), "Oceans are big.")
    assert.strictEqual(textOf({ _tag: "Replay" }), full)
  })

  it("continues natively only when the request asks in the server's terms", () => {
    const vllm: Step.Continuation = { _tag: "Native", field: "continue_final_message" }
    assert.strictEqual(
      textOf(vllm, request({ continue_final_message: true, add_generation_prompt: false })),
      rest
    )
    assert.strictEqual(textOf(vllm, request({})), Texts.restartText)
    for (const body of [
      { continue_final_message: true },
      { continue_final_message: true, add_generation_prompt: true }
    ]) {
      const answer = Continue.answer(vllm, request(body), texts)
      assert.strictEqual(answer._tag, "Invalid")
      assert.include(answer._tag === "Invalid" ? answer.error.message : "", "add_generation_prompt")
    }
    const deepseek: Step.Continuation = { _tag: "Native", field: "prefix" }
    const messages = (last: object) => ({ messages: [{ role: "user", content: "Hi" }, last] })
    assert.strictEqual(
      textOf(deepseek, request(messages({ role: "assistant", content: prefix, prefix: true }))),
      rest
    )
    assert.strictEqual(
      textOf(deepseek, request(messages({ role: "assistant", content: prefix }))),
      Texts.restartText
    )
  })
})
