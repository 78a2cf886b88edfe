import { existsSync, mkdirSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { type Browser, chromium, type Page } from "playwright-core"
import * as ModelSource from "../src/ModelSource.ts"
import { get, startExample } from "./example.ts"

const executablePath = "/usr/bin/chromium"
const args = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

/** A real headless Chromium for the scope. No Chromium is a failure, never a skip. */
const browser = Effect.acquireRelease(
  Effect.tryPromise({
    try: () => {
      if (!existsSync(executablePath)) {
        throw new Error(
          `${executablePath} is missing: install Debian's chromium (apt-get install -y chromium)`
        )
      }
      return chromium.launch({ executablePath, args, timeout: 20_000 })
    },
    catch: (cause) => new Error(`cannot start Chromium: ${String(cause)}`)
  }).pipe(Effect.orDie),
  (browser: Browser) => Effect.promise(() => browser.close())
)

/** Opens the page with every status-line text recorded in `window.statuses`. */
const openPage = (b: Browser, url: string) =>
  Effect.promise(async () => {
    const page = await b.newPage({ viewport: { width: 860, height: 620 }, deviceScaleFactor: 1 })
    await page.addInitScript(() => {
      const w = window as unknown as { statuses: Array<string> }
      w.statuses = []
      document.addEventListener("DOMContentLoaded", () => {
        const status = document.getElementById("status")
        if (status === null) return
        new MutationObserver(() => w.statuses.push(status.textContent ?? "")).observe(status, {
          childList: true,
          characterData: true,
          subtree: true
        })
      })
    })
    await page.goto(url)
    return page
  })

/** Submits a prompt and waits (bounded) until the page says the call is over. */
const ask = (page: Page, prompt: string) =>
  Effect.promise(async () => {
    await page.fill("#prompt", prompt)
    await page.click("button[type=submit]")
    await page.waitForSelector('body[data-state="done"], body[data-state="failed"]', { timeout: 20_000 })
    return page.evaluate(() => ({
      state: document.body.dataset.state,
      answer: document.getElementById("answer")?.textContent ?? "",
      events: [...document.querySelectorAll("#events li")].map((li) => li.textContent ?? ""),
      summary: document.getElementById("summary")?.textContent ?? "",
      error: document.getElementById("error")?.textContent ?? "",
      statuses: (window as unknown as { statuses: Array<string> }).statuses
    }))
  })

describe("the page, in headless Chromium", () => {
  it.live("shows exactly the scripted answer and the recovery live, and /metrics counts the call", () =>
    Effect.gen(function* () {
      const b = yield* browser
      const { url } = yield* startExample(FakeScenario.named.flaky)
      const page = yield* openPage(b, url)
      const result = yield* ask(page, "Tell me about the sea")
      assert.strictEqual(result.state, "done", result.error)
      assert.strictEqual(result.answer, FakeScenario.defaultText)
      assert.ok(
        result.statuses.includes("rate limited, retrying in 1.0 s (attempt 2/5)"),
        result.statuses.join(" | ")
      )
      assert.ok(
        result.statuses.some((status) => /^connection lost after \d+ chars, continuing in/.test(status)),
        result.statuses.join(" | ")
      )
      assert.strictEqual(result.events.length, 2)
      assert.match(
        result.summary,
        new RegExp(
          `^3 attempts · 0 fallbacks · first token \\d+ ms · ${[...FakeScenario.defaultText].length} chars · ok in`
        )
      )
      const metrics = yield* get(`${url}/metrics`)
      assert.match(metrics.text, /^steadystream_requests_total\{.*\} \d+$/m)
    }).pipe(Effect.scoped)
  )

  it.live("shows a final failure in one line", () =>
    Effect.gen(function* () {
      const b = yield* browser
      const { url } = yield* startExample(FakeScenario.named.quota)
      const page = yield* openPage(b, url)
      const result = yield* ask(page, "Tell me about the sea")
      assert.strictEqual(result.state, "failed")
      assert.strictEqual(result.answer, "")
      assert.match(result.error, /^quota exceeded: /)
      assert.include(result.summary, "failed: QuotaExceeded")
    }).pipe(Effect.scoped)
  )

  it.live("renders decently: a screenshot after a recovered answer", () =>
    Effect.gen(function* () {
      const b = yield* browser
      // What `pnpm serve` shows: the flaky scenario dripping 40 ms per chunk, the default backoff.
      const { url } = yield* startExample(
        ModelSource.scenario("flaky", Duration.millis(40)),
        {},
        `the embedded fake OpenAI server, scenario "flaky": ${ModelSource.scenarioHelp.flaky}`
      )
      const page = yield* openPage(b, url)
      const result = yield* ask(page, "Tell me about the sea")
      assert.strictEqual(result.state, "done")
      assert.strictEqual(result.answer, FakeScenario.defaultText)
      // `UPDATE_SCREENSHOT=1` refreshes the committed docs/screenshot.png; otherwise it goes to .tmp/.
      const target =
        process.env.UPDATE_SCREENSHOT === "1"
          ? fileURLToPath(new URL("../../../docs/screenshot.png", import.meta.url))
          : fileURLToPath(new URL("../../../.tmp/screenshot.png", import.meta.url))
      mkdirSync(fileURLToPath(new URL(".", `file://${target}`)), { recursive: true })
      const png = yield* Effect.promise(() => page.screenshot({ path: target, fullPage: true }))
      assert.deepStrictEqual([...png.subarray(1, 4)], [...Buffer.from("PNG")])
      assert.isAbove(png.length, 10_000, "a real picture, not a blank page")
    }).pipe(Effect.scoped)
  )
})
