/**
 * Thousands of random and mutated SSE byte streams (truncated frames, bad
 * UTF-8, huge lines, missing newlines, stray events, random bytes), written
 * in random pieces by a raw HTTP server, through the real adapter: every case
 * ends in a successful finish or a typed `ChatError` — never a defect, never
 * a hang. Fixed seed, so a failure reproduces.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { ChatError, type ChatModel } from "@steadystream/core"
import { OpenAiChatModel, OpenAiClient } from "@steadystream/openai-adapter"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import fc from "fast-check"
import { apiKey, request } from "./support.ts"

interface Case {
  readonly bytes: Uint8Array
  /** Where the body is cut into separate writes. */
  readonly splits: ReadonlyArray<number>
  readonly status: number
}

const chunkJson = (delta: object, finish: string | null) =>
  JSON.stringify({
    id: "chatcmpl-fuzz",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt-fake",
    choices: [{ index: 0, delta, finish_reason: finish }]
  })

const frame = (data: string) => `data: ${data}\n\n`

/** A well-formed answer made of `pieces`. */
const valid = (pieces: ReadonlyArray<string>, finish: string, done: boolean) =>
  frame(chunkJson({ role: "assistant", content: "" }, null)) +
  pieces.map((piece) => frame(chunkJson({ content: piece }, null))).join("") +
  frame(chunkJson({}, finish)) +
  (done ? frame("[DONE]") : "")

const encoder = new TextEncoder()

type Mutation = (bytes: Uint8Array) => Uint8Array

const concat = (...parts: ReadonlyArray<Uint8Array>) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Truncated at any byte.
  fc
    .double({ min: 0, max: 1, noNaN: true })
    .map((f) => (b: Uint8Array) => b.slice(0, Math.floor(b.length * f))),
  // Random bytes overwritten (bad UTF-8 and broken JSON alike).
  fc
    .array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 8
    })
    .map((edits) => (b: Uint8Array) => {
      const out = b.slice()
      for (const [f, byte] of edits) if (out.length > 0) out[Math.floor(f * (out.length - 1))] = byte
      return out
    }),
  // Bytes inserted: invalid UTF-8 sequences, lone continuation bytes, NULs, CRs.
  fc
    .tuple(
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom([0xff], [0xc3], [0xe2, 0x82], [0x80, 0x80], [0xf0, 0x9f, 0x9a], [0], [13], [10, 10])
    )
    .map(([f, bytes]) => (b: Uint8Array) => {
      const at = Math.floor(f * b.length)
      return concat(b.slice(0, at), Uint8Array.from(bytes), b.slice(at))
    }),
  // Every newline removed, or every "\n" turned into "\r\n" or "\r".
  fc.constantFrom("drop", "crlf", "cr").map((how) => (b: Uint8Array) => {
    const text = new TextDecoder().decode(b)
    const out = how === "drop" ? text.replace(/\n/g, "") : text.replace(/\n/g, how === "crlf" ? "\r\n" : "\r")
    return encoder.encode(out)
  }),
  // A huge line (up to 1 MB) inserted.
  fc
    .tuple(
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.integer({ min: 10_000, max: 1_000_000 }),
      fc.boolean()
    )
    .map(([f, size, asData]) => (b: Uint8Array) => {
      const at = Math.floor(f * b.length)
      const line = encoder.encode(`${asData ? "data: " : ""}${"x".repeat(size)}\n`)
      return concat(b.slice(0, at), line, b.slice(at))
    }),
  // A stray frame inserted: error events, odd JSON, comments, unknown fields.
  fc
    .tuple(
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom(
        'event: error\ndata: {"error":{"message":"boom","type":"server_error"}}\n\n',
        'data: {"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}\n\n',
        "data: null\n\n",
        "data: 42\n\n",
        'data: "text"\n\n',
        "data: []\n\n",
        'data: {"choices":null}\n\n',
        'data: {"choices":[{"delta":null}]}\n\n',
        'data: {"choices":[{"delta":{"content":7}}]}\n\n',
        'data: {"choices":[{"delta":{"tool_calls":[{"index":0,"function":null}]}}]}\n\n',
        'data: {"choices":[{"delta":{"tool_calls":"x"}}]}\n\n',
        'data: {"usage":{"prompt_tokens":"a"}}\n\n',
        ": keep-alive\n\n",
        "retry: 10\nid: 3\n\n",
        "data: [DONE]\n\n",
        "data: {\n\n"
      )
    )
    .map(([f, stray]) => (b: Uint8Array) => {
      const at = Math.floor(f * b.length)
      return concat(b.slice(0, at), encoder.encode(stray), b.slice(at))
    })
)

const piece = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 6 }),
  fc.constantFrom("é", "🚀", "日本", "\u0000", "\\", '"', "\n")
)

const body: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.array(piece, { maxLength: 20 }),
        fc.constantFrom("stop", "length", "content_filter", "tool_calls", "weird"),
        fc.boolean(),
        fc.array(mutation, { maxLength: 3 })
      )
      .map(([pieces, finish, done, mutations]) =>
        mutations.reduce<Uint8Array>(
          (bytes, mutate) => mutate(bytes),
          encoder.encode(valid(pieces, finish, done))
        )
      )
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2_000 }) }
)

const fuzzCase: fc.Arbitrary<Case> = fc.record({
  bytes: body,
  splits: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
  status: fc.oneof(
    { weight: 9, arbitrary: fc.constant(200) },
    { weight: 1, arbitrary: fc.constantFrom(200, 500, 429, 400) }
  )
})

/** A raw server that answers every request with the current case's bytes. */
const rawServer = Effect.acquireRelease(
  Effect.callback<{ readonly url: string; readonly server: Http.Server; current: Case | undefined }>(
    (resume) => {
      const state: { url: string; server: Http.Server; current: Case | undefined } = {
        url: "",
        server: undefined as unknown as Http.Server,
        current: undefined
      }
      const server = Http.createServer({ noDelay: true }, (req, res) => {
        req.resume()
        req.on("end", () => {
          const current = state.current
          if (current === undefined) return res.destroy()
          res.writeHead(current.status, { "content-type": "text/event-stream" })
          const cuts = [...new Set(current.splits.map((f) => Math.floor(f * current.bytes.length)))].sort(
            (a, b) => a - b
          )
          let at = 0
          for (const cut of cuts) {
            res.write(current.bytes.subarray(at, cut))
            at = cut
          }
          res.end(current.bytes.subarray(at))
        })
      })
      state.server = server
      server.listen(0, "127.0.0.1", () => {
        state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
        resume(Effect.succeed(state))
      })
    }
  ),
  (state) =>
    Effect.callback<void>((resume) => {
      state.server.closeAllConnections()
      state.server.close(() => resume(Effect.void))
    })
)

type Verdict = "finish" | ChatError.Tag | "defect" | "hang" | "no-finish"

const runCase = (model: ChatModel.Service): Effect.Effect<{ verdict: Verdict; detail: string }> =>
  model.stream(request).pipe(
    Stream.runCollect,
    Effect.exit,
    Effect.timeoutOption("3 seconds"),
    Effect.map((result) => {
      if (result._tag === "None") return { verdict: "hang" as const, detail: "" }
      const exit = result.value
      if (Exit.isSuccess(exit)) {
        const events = exit.value
        const finishes = events.filter((event) => event.type === "finish").length
        return finishes === 1 && events.at(-1)?.type === "finish"
          ? { verdict: "finish" as const, detail: "" }
          : { verdict: "no-finish" as const, detail: JSON.stringify(events).slice(0, 300) }
      }
      const reasons = exit.cause.reasons
      const failure = reasons.find(Cause.isFailReason)
      if (reasons.length === 1 && failure !== undefined && ChatError.isChatError(failure.error)) {
        return { verdict: failure.error._tag, detail: "" }
      }
      return { verdict: "defect" as const, detail: Cause.pretty(exit.cause).slice(0, 800) }
    })
  )

describe("chaos: SSE fuzz", () => {
  it.live("random and mutated SSE bodies end in a finish or a typed error, never a defect or a hang", () =>
    Effect.gen(function* () {
      const server = yield* rawServer
      const model = yield* OpenAiChatModel.make().pipe(
        Effect.provide(OpenAiClient.layer({ apiKey: Redacted.make(apiKey), baseURL: server.url }))
      )
      const verdicts = new Map<Verdict, number>()
      const check = (c: Case) =>
        Effect.runPromise(
          Effect.gen(function* () {
            server.current = c
            const { verdict, detail } = yield* runCase(model)
            verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1)
            return { verdict, detail }
          })
        )
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(fuzzCase, async (c) => {
            const { verdict, detail } = await check(c)
            if (verdict === "defect" || verdict === "hang" || verdict === "no-finish") {
              throw new Error(`${verdict}: ${detail}`)
            }
          }),
          { seed: 20_240_601, numRuns: 2_500, endOnFailure: true }
        )
      )
      console.table(Object.fromEntries([...verdicts].sort((a, b) => b[1] - a[1])))
      // The generator reaches both ends: successes and several kinds of typed failure.
      assert.isAbove(verdicts.get("finish") ?? 0, 0)
      assert.isAbove(verdicts.get("StreamTruncated") ?? 0, 0)
      assert.isAbove(verdicts.get("MalformedResponse") ?? 0, 0)
    })
  )
})
