import { type ResiliencePolicy, ResilientChat } from "@steadystream/core"
import { OpenAiChatModel } from "@steadystream/openai-adapter"
import { FakeOpenAiServer } from "@steadystream/openai-adapter/testing"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { HttpServer } from "effect/http"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as ChatServer from "../src/ChatServer.ts"

/**
 * Starts the backend example in-process on a free port, answering from a
 * fake OpenAI server that plays `scenario`; both stop with the scope, or the
 * example alone with `shutdown` (as Ctrl-C on `serve` would).
 */
export const startExample = (
  scenario: FakeOpenAiServer.Options,
  policy: ResiliencePolicy.ResiliencePolicy = { retry: { baseDelay: "20 millis" } },
  source = "a test fake server",
  options: Partial<ChatServer.Options> = {}
) =>
  Effect.gen(function* () {
    const fake = yield* FakeOpenAiServer.make(scenario)
    const model = OpenAiChatModel.layer({ apiKey: Redacted.make("sk-test"), baseURL: fake.url })
    const app = ChatServer.layer({ port: 0, model: "gpt-fake", maxAttempts: 5, source, ...options }).pipe(
      Layer.provide(ResilientChat.layer(policy)),
      Layer.provide(model)
    )
    const scope = yield* Scope.fork(yield* Effect.scope)
    const { address } = Context.get(yield* Layer.buildWithScope(app, scope), HttpServer.HttpServer)
    return { url: HttpServer.formatAddress(address), fake, shutdown: Scope.close(scope, Exit.void) }
  })

/**
 * Waits (bounded) until the fake server has no connection open, and tells
 * whether its chat call was cut short by the client (cancelled upstream).
 */
export const upstreamCancelled = (fake: FakeOpenAiServer.Service) =>
  Effect.gen(function* () {
    yield* fake.awaitOpenConnections(0).pipe(Effect.timeout("2 seconds"))
    const call = (yield* fake.requests).find((request) => request.path === "/v1/chat/completions")
    return call?.clientClosedEarly === true
  })

/** Parses a `text/event-stream` body into `[event, data]` pairs. */
export const parseSse = (body: string): ReadonlyArray<readonly [string, Record<string, unknown>]> =>
  body
    .split("\n\n")
    .filter((block) => block.trim().length > 0)
    .map((block) => {
      let name = "message"
      let data = ""
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7)
        else if (line.startsWith("data: ")) data += line.slice(6)
      }
      return [name, JSON.parse(data) as Record<string, unknown>] as const
    })

export const post = (url: string, body: string, init: RequestInit = {}) =>
  Effect.promise(() =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body, ...init }).then(
      async (response) => ({
        status: response.status,
        type: response.headers.get("content-type"),
        headers: response.headers,
        text: await response.text()
      })
    )
  )

export const get = (url: string, init: RequestInit = {}) =>
  Effect.promise(() =>
    fetch(url, init).then(async (response) => ({
      status: response.status,
      type: response.headers.get("content-type"),
      headers: response.headers,
      text: await response.text()
    }))
  )

/**
 * Posts a prompt and reads the answer stream as it arrives: `until` waits
 * (bounded) for a frame, `rest` reads to the end, `abort` goes away.
 */
export const openAnswer = (url: string, prompt: string) =>
  Effect.promise(async () => {
    const controller = new AbortController()
    const response = await fetch(`${url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt }),
      signal: controller.signal
    })
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let text = ""
    const frames = () => parseSse(text.slice(0, text.lastIndexOf("\n\n") + 2))
    const until = async (name: string) => {
      const deadline = Date.now() + 10_000
      while (!frames().some(([event]) => event === name)) {
        if (Date.now() > deadline) throw new Error(`no ${name} frame within 10 s: ${text}`)
        const { value, done } = await reader.read()
        if (done) throw new Error(`the stream ended before a ${name} frame: ${text}`)
        text += decoder.decode(value, { stream: true })
      }
      return frames()
    }
    const rest = async () => {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return frames()
        text += decoder.decode(value, { stream: true })
      }
    }
    return {
      response,
      until: (name: string) => Effect.promise(() => until(name)),
      rest: Effect.promise(rest),
      abort: Effect.sync(() => controller.abort())
    }
  })
