import { existsSync, mkdirSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { type Browser, chromium, type Page } from "playwright-core"
import * as ModelSource from "../src/ModelSource.ts"
import * as Cuttable from "./cuttable.ts"
import { get, startExample, upstreamCancelled } from "./example.ts"
import { startProcess } from "./spawn.ts"

const serve = fileURLToPath(new URL("../src/serve.ts", import.meta.url))

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

/**
 * Opens the page with every status-line text recorded in `window.statuses`,
 * and every response of 400 or more (a missing icon, say) in `failures`.
 */
const openPage = (b: Browser, url: string, failures: Array<string> = []) =>
  Effect.promise(async () => {
    const page = await b.newPage({ viewport: { width: 860, height: 620 }, deviceScaleFactor: 1 })
    page.on("response", (response) => {
      if (response.status() >= 400) failures.push(`${response.status()} ${response.url()}`)
    })
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

/** What the page shows: its state, the answer, recovery steps, the outcome, and what a person sees. */
const read = (page: Page) =>
  page.evaluate(() => {
    const answer = document.getElementById("answer") as HTMLElement
    const stop = document.getElementById("stop") as HTMLButtonElement
    return {
      state: document.body.dataset.state,
      answer: answer.textContent ?? "",
      events: [...document.querySelectorAll("#events li")].map((li) => li.textContent ?? ""),
      status: document.getElementById("status")?.textContent ?? "",
      summary: document.getElementById("summary")?.textContent ?? "",
      error: document.getElementById("error")?.textContent ?? "",
      statuses: (window as unknown as { statuses: Array<string> }).statuses,
      /** The answer box as drawn: its placeholder text, or hidden. */
      placeholder:
        getComputedStyle(answer).display === "none" ? "hidden" : getComputedStyle(answer, "::before").content,
      stopVisible: !stop.hidden,
      askEnabled: !(document.getElementById("send") as HTMLButtonElement).disabled
    }
  })

const over = 'body[data-state="done"], body[data-state="failed"], body[data-state="stopped"]'

/** Submits a prompt and waits (bounded) until the page says the call is over. */
const ask = (page: Page, prompt: string) =>
  Effect.promise(async () => {
    await page.fill("#prompt", prompt)
    await page.click("button[type=submit]")
    await page.waitForSelector(over, { timeout: 20_000 })
    return read(page)
  })

/** Submits a prompt, waits (bounded) for some answer text, runs `then`, and waits until the call is over. */
const askAndThen = (page: Page, then: () => Promise<unknown>) =>
  Effect.promise(async () => {
    await page.click("button[type=submit]")
    await page.waitForFunction(
      () => (document.getElementById("answer")?.textContent ?? "").length > 0,
      null,
      {
        timeout: 10_000
      }
    )
    await then()
    await page.waitForSelector(over, { timeout: 10_000 })
    return read(page)
  })

describe("the page, in headless Chromium", () => {
  it.live("shows exactly the scripted answer and the recovery live, and /metrics counts the call", () =>
    Effect.gen(function* () {
      const b = yield* browser
      const { url } = yield* startExample(FakeScenario.named.flaky)
      const failures: Array<string> = []
      const page = yield* openPage(b, url, failures)
      const result = yield* ask(page, "Tell me about the sea")
      assert.strictEqual(result.state, "done", result.error)
      assert.deepStrictEqual(failures, [], "no failed response while the page is used")
      const icons = yield* Effect.promise(() =>
        page.evaluate(async () => {
          const link = document.querySelector<HTMLLinkElement>('link[rel="icon"]')
          const inline =
            link === null ? undefined : await fetch(link.href).then((r) => r.headers.get("content-type"))
          const served = await fetch("/favicon.ico").then(
            (r) => `${r.status} ${r.headers.get("content-type")}`
          )
          return { inline, served }
        })
      )
      assert.deepStrictEqual(
        icons,
        { inline: "image/svg+xml", served: "200 image/svg+xml" },
        "an icon, no 404"
      )
      assert.isFalse(result.stopVisible)
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

  it.live('midStream "restart": the page withdraws the partial answer and shows the fresh one once', () =>
    Effect.gen(function* () {
      const b = yield* browser
      const { url } = yield* startExample(FakeScenario.named.flaky, {
        retry: { baseDelay: "20 millis" },
        midStream: "restart"
      })
      const page = yield* openPage(b, url)
      const result = yield* ask(page, "Tell me about the sea")
      assert.strictEqual(result.state, "done", result.error)
      assert.strictEqual(result.answer, FakeScenario.defaultText)
      assert.ok(
        result.statuses.some((status) =>
          /^connection lost after \d+ chars: the partial answer is withdrawn/.test(status)
        ),
        result.statuses.join(" | ")
      )
    }).pipe(Effect.scoped)
  )

  it.live("shows a final failure in one line, without the placeholder", () =>
    Effect.gen(function* () {
      const b = yield* browser
      const { url } = yield* startExample(FakeScenario.named.quota)
      const page = yield* openPage(b, url)
      assert.strictEqual(
        (yield* Effect.promise(() => read(page))).placeholder,
        '"The answer appears here as it streams."'
      )
      const result = yield* ask(page, "Tell me about the sea")
      assert.strictEqual(result.state, "failed")
      assert.strictEqual(result.answer, "")
      assert.match(result.error, /^quota exceeded: /)
      assert.include(result.summary, "failed: QuotaExceeded")
      assert.strictEqual(result.placeholder, "hidden", "no 'The answer appears here' under a failure")
    }).pipe(Effect.scoped)
  )

  it.live("Stop cancels the answer and its upstream call, keeping the text so far", () =>
    Effect.gen(function* () {
      const b = yield* browser
      const { url, fake } = yield* startExample(FakeScenario.named.slow)
      const page = yield* openPage(b, url)
      const result = yield* askAndThen(page, async () => {
        const during = await read(page)
        if (!during.stopVisible || during.askEnabled)
          throw new Error("Stop is offered while streaming, Ask is not")
        await page.click("#stop")
      })
      assert.strictEqual(result.state, "stopped")
      assert.match(result.status, /^Stopped after \d+ characters: you cancelled the answer\.$/)
      assert.isAbove(result.answer.length, 0)
      assert.isTrue(FakeScenario.defaultText.startsWith(result.answer), "the text so far stays")
      assert.isBelow(result.answer.length, FakeScenario.defaultText.length)
      assert.isFalse(result.stopVisible)
      assert.isTrue(result.askEnabled)
      assert.isTrue(yield* upstreamCancelled(fake), "the upstream call was cancelled")
    }).pipe(Effect.scoped)
  )

  it.live("says so when the server shuts down mid-answer", () =>
    Effect.gen(function* () {
      const b = yield* browser
      const { url, shutdown } = yield* startExample(FakeScenario.named.slow)
      const page = yield* openPage(b, url)
      const result = yield* askAndThen(page, () => Effect.runPromise(shutdown))
      assert.strictEqual(result.state, "failed")
      assert.match(result.error, /^the server is shutting down: the answer stopped after \d+ chars/)
      assert.match(result.summary, /stopped after .*: server shutting down$/)
    }).pipe(Effect.scoped)
  )

  it.live("reconnects on its own when the connection drops mid-answer, showing each character once", () =>
    Effect.gen(function* () {
      const b = yield* browser
      const { url } = yield* startExample({
        steps: [],
        fallback: FakeScenario.answer({ delay: "40 millis" })
      })
      const proxy = yield* Cuttable.start(url)
      const page = yield* openPage(b, proxy.url)
      const result = yield* askAndThen(page, async () => {
        assert.isAbove(proxy.cut(), 0, "a connection was cut")
      })
      assert.strictEqual(result.state, "done")
      assert.strictEqual(result.answer, FakeScenario.defaultText)
      assert.isTrue(result.events.some((line) => line.includes("resumed where it stopped")))
      assert.isTrue(result.statuses.some((status) => status.includes("reconnecting")))
    }).pipe(Effect.scoped)
  )

  it.live("says the connection was lost, not just 'network error', when the server dies mid-answer", () =>
    Effect.gen(function* () {
      const b = yield* browser
      const serving = yield* startProcess(
        serve,
        ["--port", "0", "--scenario", "slow"],
        /listening on (http:\/\/\S+)/
      )
      const page = yield* openPage(b, serving.ready)
      const result = yield* askAndThen(page, async () => {
        serving.child.kill("SIGKILL")
      })
      assert.strictEqual(result.state, "failed")
      assert.match(
        result.error,
        /^the connection to the server was lost after \d+ characters \(the server stopped or the network dropped\)/
      )
      assert.isAbove(result.answer.length, 0, "the text so far stays")
      const again = yield* ask(page, "Tell me about the sea")
      assert.strictEqual(again.error, "cannot reach the server (is it running?)")
    }).pipe(Effect.scoped)
  )

  it.live("renders decently: a screenshot after a recovered answer", () =>
    Effect.gen(function* () {
      const b = yield* browser
      // What `pnpm serve` shows: the flaky scenario dripping 40 ms per chunk, the default backoff.
      const { url } = yield* startExample(
        ModelSource.scenario("flaky", Duration.millis(40)),
        {},
        `the embedded fake OpenAI server, scenario "flaky": ${FakeScenario.descriptions.flaky}`
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
