/**
 * Every fault kind the fake server can script × every phase of a call,
 * through `ResilientChat` and the real adapter over real HTTP: each cell ends
 * in the exact text or the documented typed error, with nothing repeated and
 * nothing lost.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { ResilientChat } from "@steadystream/core"
import { FakeOpenAiServer } from "@steadystream/openai-adapter/testing"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import { type Cell, matrix, type Phase, phases } from "./cells.ts"
import { account, apiKey, chatLayer, runStream } from "./support.ts"

const results = new Map<string, string>()

const runCell = (cell: Cell) =>
  Effect.gen(function* () {
    const server = yield* FakeOpenAiServer.make({
      apiKey,
      keepAlive: "20 millis",
      text: cell.text,
      steps: cell.steps,
      ...(cell.fallback === undefined ? {} : { fallback: cell.fallback })
    })
    const chat = yield* ResilientChat.ResilientChat.pipe(
      Effect.provide(chatLayer(server.url, cell.policy, apiKey, cell.dialect))
    )
    // Recovery logs are covered by the secrets test; here they would only bury the matrix.
    const outcome = yield* runStream(chat).pipe(Effect.provide(Logger.layer([])))
    const calls = (yield* server.requests).filter((r) => r.call !== undefined).length
    return { outcome, calls }
  })

describe("chaos: fault matrix", () => {
  for (const row of matrix) {
    for (const cell of row.cells) {
      if (cell === undefined) continue
      it.live(`${cell.kind} @ ${cell.phase}`, () =>
        Effect.gen(function* () {
          const { outcome, calls } = yield* runCell(cell)
          const key = `${cell.kind}|${cell.phase}`
          results.set(key, "✗")
          assert.isUndefined(outcome.defect, `died instead of failing typed: ${outcome.defect}`)
          const { duplicated, lost } = account(cell.text, outcome.text)
          if (cell.expect._tag === "Text") {
            assert.isUndefined(
              outcome.error,
              `expected the text, got ${outcome.error?._tag}: ${outcome.error?.message}`
            )
            assert.strictEqual(outcome.text, cell.text)
            assert.deepStrictEqual({ duplicated, lost }, { duplicated: 0, lost: 0 })
            const finishes = outcome.events.filter((event) => event.type === "finish")
            assert.strictEqual(finishes.length, 1)
            assert.strictEqual(outcome.events.at(-1)?.type, "finish")
            // Recovery is visible, never silent.
            assert.isTrue(
              outcome.events.some((event) => event.type === "retrying" || event.type === "fallback"),
              "no retrying/fallback event"
            )
            results.set(key, `✓ exact (${calls} calls)`)
          } else {
            assert.isDefined(outcome.error, `expected ${cell.expect.tag}, got success`)
            assert.strictEqual(outcome.error!._tag, cell.expect.tag, outcome.error!.message)
            // Whatever was delivered before the failure is one in-order prefix: nothing repeated.
            assert.isTrue(
              cell.text.startsWith(outcome.text),
              `delivered text is not a prefix: ${outcome.text}`
            )
            assert.strictEqual(duplicated, 0)
            // A failure that says what was delivered says exactly what the consumer saw: verified text only.
            const error = outcome.error!
            if (error._tag === "StreamTruncated" || error._tag === "ContinuationRejected")
              assert.strictEqual(error.delivered, outcome.text)
            results.set(key, `✓ ${cell.expect.tag} (${calls} calls, ${outcome.text.length} chars)`)
          }
          if (cell.fallbackStep !== undefined) {
            assert.isTrue(
              outcome.events.some((event) => event.type === "fallback" && event.step === cell.fallbackStep),
              `no fallback to ${cell.fallbackStep}`
            )
          }
        })
      )
    }
  }

  afterAll(() => {
    const table: Record<string, Record<Phase, string>> = {}
    for (const row of matrix) {
      table[row.kind] = Object.fromEntries(
        phases.map((phase, i) => [
          phase,
          row.cells[i] === undefined ? "n/a" : (results.get(`${row.kind}|${phase}`) ?? "not run")
        ])
      ) as Record<Phase, string>
    }
    console.table(table)
  })
})
