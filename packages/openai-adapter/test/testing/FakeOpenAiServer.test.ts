import { assert, describe, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import OpenAI from "openai"
import * as FakeOpenAiServer from "../../src/testing/FakeOpenAiServer.ts"
import * as FakeScenario from "../../src/testing/FakeScenario.ts"
import { apiKey, text, words } from "../fixtures.ts"

const sdk = (url: string, key = apiKey) => new OpenAI({ apiKey: key, baseURL: url, maxRetries: 0 })

const attempt = <A>(f: () => Promise<A>) =>
  Effect.promise(() =>
    f().then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error })
    )
  )

const streamText = (client: OpenAI, messages: Array<OpenAI.ChatCompletionMessageParam>) =>
  Effect.promise(async () => {
    const stream = await client.chat.completions.create({ model: "m", messages, stream: true })
    let out = ""
    for await (const chunk of stream) out += chunk.choices[0]?.delta.content ?? ""
    return out
  })

describe("FakeOpenAiServer", () => {
  it.effect("records every request and answers each with an x-request-id", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({ apiKey })
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/)
      const models = yield* Effect.promise(() =>
        fetch(`${server.url}/models`, { headers: { authorization: `Bearer ${apiKey}` } })
      )
      assert.strictEqual(models.headers.get("x-request-id"), "req_fake_000001")
      assert.deepStrictEqual(
        ((yield* Effect.promise(() => models.json())) as { data: Array<{ id: string }> }).data.map(
          (m) => m.id
        ),
        ["gpt-fake"]
      )
      const missing = yield* Effect.promise(() =>
        fetch(`${server.url}/nope`, { headers: { authorization: `Bearer ${apiKey}` } })
      )
      assert.strictEqual(missing.status, 404)
      assert.strictEqual(missing.headers.get("x-request-id"), "req_fake_000002")
      assert.deepStrictEqual(yield* Effect.promise(() => missing.json()), {
        error: {
          message: "Invalid URL (GET /v1/nope)",
          type: "invalid_request_error",
          param: null,
          code: null
        }
      })
      const unauthorized = yield* Effect.promise(() => fetch(`${server.url}/models`))
      assert.strictEqual(unauthorized.status, 401)
      assert.strictEqual(
        ((yield* Effect.promise(() => unauthorized.json())) as { error: { code: string } }).error.code,
        "invalid_api_key"
      )
      const completion = yield* Effect.promise(() =>
        sdk(server.url).chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] })
      )
      assert.strictEqual(completion.choices[0]?.message.content, text)
      const recorded = yield* server.requests
      assert.deepStrictEqual(
        recorded.map((r) => [r.method, r.path, r.requestId, r.outcome, r.call]),
        [
          ["GET", "/v1/models", "req_fake_000001", "Models", undefined],
          ["GET", "/v1/nope", "req_fake_000002", "NotFound", undefined],
          ["GET", "/v1/models", "req_fake_000003", "Unauthorized", undefined],
          ["POST", "/v1/chat/completions", "req_fake_000004", "Answer", 0]
        ]
      )
      assert.deepStrictEqual(recorded[3]!.body, { model: "m", messages: [{ role: "user", content: "hi" }] })
      assert.isTrue(recorded.every((r) => r.finished && !r.clientClosedEarly))
    })
  )

  it.effect("keeps only the last `record.limit` requests, however many and however large", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({ record: { limit: 3 } })
      const prompt = "x ".repeat(128 * 1024)
      for (let i = 0; i < 30; i++) {
        const response = yield* Effect.promise(() =>
          fetch(`${server.url}/chat/completions`, {
            method: "POST",
            body: JSON.stringify({ model: "m", messages: [{ role: "user", content: prompt }] })
          })
        )
        assert.strictEqual(response.status, 200)
        yield* Effect.promise(() => response.arrayBuffer())
      }
      const recorded = yield* server.requests
      assert.deepStrictEqual(
        recorded.map((r) => [r.index, r.requestId, r.call]),
        [
          [27, "req_fake_000028", 27],
          [28, "req_fake_000029", 28],
          [29, "req_fake_000030", 29]
        ]
      )
    })
  )

  it.effect("records the last 20 requests by default, and none with record: false", () =>
    Effect.gen(function* () {
      const models = (url: string) =>
        Effect.promise(() => fetch(`${url}/models`).then((response) => response.arrayBuffer()))
      const byDefault = yield* FakeOpenAiServer.make()
      const off = yield* FakeOpenAiServer.make({ record: false })
      for (let i = 0; i < 25; i++) {
        yield* models(byDefault.url)
        yield* models(off.url)
      }
      const kept = yield* byDefault.requests
      assert.strictEqual(kept.length, 20)
      assert.strictEqual(kept[0]!.index, 5)
      assert.deepStrictEqual(yield* off.requests, [])
    })
  )

  it.effect("rejects bodies OpenAI would reject with a 400 naming the field, without using a step", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make()
      const post = (body: string) =>
        Effect.promise(async () => {
          const response = await fetch(`${server.url}/chat/completions`, { method: "POST", body })
          return {
            status: response.status,
            error: ((await response.json()) as { error: { message: string; type: string; param: unknown } })
              .error
          }
        })
      const user = { role: "user", content: "hi" }
      const cases: ReadonlyArray<readonly [unknown, string | null, RegExp]> = [
        [[1, 2], null, /expected a JSON object, but got an array/],
        [{ foo: 1 }, "model", /Missing required parameter: 'model'/],
        [{ model: 7, messages: [user] }, "model", /expected a string, but got an integer/],
        [{ model: "m" }, "messages", /Missing required parameter: 'messages'/],
        [{ model: "m", messages: "x" }, "messages", /expected an array, but got a string/],
        [{ model: "m", messages: [] }, "messages", /empty array/],
        [{ model: "m", messages: [user, 3] }, "messages[1]", /expected an object, but got an integer/],
        [{ model: "m", messages: [{ content: "x" }] }, "messages[0].role", /Missing required parameter/],
        [{ model: "m", messages: [{ role: "robot", content: "x" }] }, "messages[0].role", /'robot'/],
        [{ model: "m", messages: [{ role: "user" }] }, "messages[0].content", /Missing required/],
        [{ model: "m", messages: [{ role: "user", content: 5 }] }, "messages[0].content", /string or array/]
      ]
      for (const [body, param, message] of cases) {
        const { status, error } = yield* post(JSON.stringify(body))
        assert.strictEqual(status, 400, JSON.stringify(body))
        assert.strictEqual(error.type, "invalid_request_error")
        assert.strictEqual(error.param, param, JSON.stringify(body))
        assert.match(error.message, message)
      }
      const notJson = yield* post("{nope")
      assert.strictEqual(notJson.status, 400)
      assert.match(notJson.error.message, /could not parse the JSON body/)
      // Valid bodies, including an assistant message that carries only tool calls, are answered.
      const valid = yield* Effect.promise(() =>
        sdk(server.url).chat.completions.create({
          model: "m",
          messages: [
            user as OpenAI.ChatCompletionUserMessageParam,
            { role: "assistant", content: null, tool_calls: [] },
            { role: "user", content: [{ type: "text", text: "go on" }] }
          ]
        })
      )
      assert.strictEqual(valid.choices[0]?.message.content, text)
      const recorded = yield* server.requests
      assert.deepStrictEqual(
        recorded.map((r) => `${r.outcome} ${r.call}`),
        [...cases.map(() => "BadRequest undefined"), "BadRequest undefined", "Answer 0"]
      )
    })
  )

  it.effect("fails with a ListenError saying why when it cannot listen", () =>
    Effect.gen(function* () {
      const first = yield* FakeOpenAiServer.make()
      const error = yield* Effect.flip(FakeOpenAiServer.make({ port: first.port }))
      assert.instanceOf(error, FakeOpenAiServer.ListenError)
      assert.strictEqual(error.port, first.port)
      assert.match(error.message, new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${first.port}: .*EADDRINUSE`))
    })
  )

  it.effect("plays steps in call order, then the fallback", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({
        steps: [FakeScenario.serverError(), FakeScenario.answer({ text: "second" })],
        fallback: FakeScenario.answer({ text: "later" })
      })
      const client = sdk(server.url)
      const first = yield* attempt(() =>
        streamText(client, [{ role: "user", content: "x" }]).pipe(Effect.runPromise)
      )
      assert.isFalse(first.ok)
      assert.instanceOf(first.ok ? undefined : first.error, OpenAI.InternalServerError)
      assert.strictEqual(yield* streamText(client, [{ role: "user", content: "x" }]), "second")
      assert.strictEqual(yield* streamText(client, [{ role: "user", content: "x" }]), "later")
      assert.strictEqual(yield* streamText(client, [{ role: "user", content: "x" }]), "later")
      assert.deepStrictEqual(
        (yield* server.requests).map((r) => r.call),
        [0, 1, 2, 3]
      )
    })
  )

  it.effect(
    "answers a continuation however the instruction is phrased; a non-prefix gets the whole text",
    () =>
      Effect.gen(function* () {
        const server = yield* FakeOpenAiServer.make()
        const client = sdk(server.url)
        const prefix = words(4)
        const trailing = yield* streamText(client, [
          { role: "user", content: "Tell me" },
          { role: "assistant", content: prefix },
          { role: "user", content: "Continue exactly where you stopped, without repeating anything." }
        ])
        assert.strictEqual(prefix + trailing, text)
        const last = yield* streamText(client, [
          { role: "system", content: "Carry on from the assistant's partial answer." },
          { role: "user", content: "Tell me" },
          { role: "assistant", content: prefix }
        ])
        assert.strictEqual(prefix + last, text)
        const unrelated = yield* streamText(client, [
          { role: "user", content: "Tell me" },
          { role: "assistant", content: "Something else entirely" }
        ])
        assert.strictEqual(unrelated, text)
        assert.deepStrictEqual(
          (yield* server.requests).map((r) => r.continuedFrom),
          [prefix, prefix, undefined]
        )
      })
  )

  it.effect("splits a multi-byte character across two TCP writes", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make({
        text: "ab é ☕ 🚀",
        steps: [FakeScenario.answer({ splitUtf8: true })]
      })
      const reads = yield* Effect.promise(async () => {
        const response = await fetch(`${server.url}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }], stream: true })
        })
        const out: Array<Uint8Array> = []
        for await (const part of response.body!) out.push(part)
        return out
      })
      const strict = new TextDecoder("utf-8", { fatal: true })
      const cutInside = reads.filter((part) => {
        try {
          strict.decode(part)
          return false
        } catch {
          return true
        }
      })
      // One read ends inside é, ☕ and 🚀 each (the bytes after each cut come in the next read).
      assert.isAtLeast(cutInside.length, 3)
      const whole = new TextDecoder().decode(Buffer.concat(reads))
      assert.include(whole, '"content":"é "')
      assert.include(whole, '"content":"🚀"')
    })
  )

  it.effect("counts open connections and closes them all when its scope ends", () =>
    Effect.gen(function* () {
      const { url, server } = yield* Effect.scoped(
        Effect.gen(function* () {
          const server = yield* FakeOpenAiServer.make({ steps: [FakeScenario.stallAfter(1)] })
          const client = sdk(server.url)
          const stream = yield* Effect.promise(() =>
            client.chat.completions.create({
              model: "m",
              messages: [{ role: "user", content: "x" }],
              stream: true
            })
          )
          assert.strictEqual(yield* server.openConnections, 1)
          void stream
          return { url: server.url, server }
        })
      )
      assert.strictEqual(yield* server.openConnections, 0)
      const after = yield* attempt(() => fetch(`${url}/models`))
      assert.isFalse(after.ok)
    })
  )

  it.effect("the built-in flaky scenario: 429 with retry-after, a reset mid-answer, then success", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.make(FakeScenario.fromName("flaky")!)
      const client = sdk(server.url)
      const messages: Array<OpenAI.ChatCompletionMessageParam> = [{ role: "user", content: "x" }]
      const limited = yield* attempt(() => Effect.runPromise(streamText(client, messages)))
      assert.instanceOf(limited.ok ? undefined : limited.error, OpenAI.RateLimitError)
      const reset = yield* attempt(() => Effect.runPromise(streamText(client, messages)))
      assert.isFalse(reset.ok)
      assert.strictEqual(yield* streamText(client, messages), text)
    })
  )

  it("names every built-in scenario with one description, and rejects unknown ones", () => {
    assert.deepStrictEqual(FakeScenario.names, [
      "happy",
      "flaky",
      "rate-limited",
      "outage",
      "quota",
      "stall",
      "truncated",
      "slow",
      "unicode",
      "rejected",
      "cut-word",
      "preamble",
      "repeat-sentence",
      "anchor",
      "reasoning",
      "refusal",
      "finish-error",
      "openrouter",
      "azure",
      "native"
    ])
    assert.deepStrictEqual(Object.keys(FakeScenario.descriptions), [...FakeScenario.names])
    assert.include(FakeScenario.menu, `flaky = ${FakeScenario.descriptions.flaky}; rate-limited = `)
    assert.strictEqual(FakeScenario.fromName("outage")?.fallback?._tag, "HttpError")
    assert.isUndefined(FakeScenario.fromName("nope"))
    assert.isUndefined(FakeScenario.fromName("toString"))
  })
})

layer(FakeOpenAiServer.layer({ steps: [FakeScenario.overloaded()] }))("FakeOpenAiServer.layer", (it) => {
  it.effect("shares one running server through its service key", () =>
    Effect.gen(function* () {
      const server = yield* FakeOpenAiServer.FakeOpenAiServer
      const first = yield* Effect.promise(() =>
        fetch(`${server.url}/chat/completions`, {
          method: "POST",
          body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }] })
        })
      )
      assert.strictEqual(first.status, 503)
      assert.strictEqual((yield* server.requests).length, 1)
    })
  )
})
