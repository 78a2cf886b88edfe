#!/usr/bin/env node
/**
 * Runs a `FakeOpenAiServer` as a standalone process, so the demo and any
 * OpenAI client can be pointed at it:
 *
 * ```sh
 * pnpm fake-server --scenario flaky --port 8787
 * # FakeOpenAiServer (scenario: flaky) listening on http://127.0.0.1:8787/v1
 * ```
 *
 * stdout carries only the `listening on` line (and `--help` / `--version`
 * when asked for). A bad flag prints the usage and the error naming the flag
 * on stderr; a port that is taken or a host that cannot be bound prints one
 * `error: …` line on stderr. Both exit with code 1.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Console from "effect/Console"
import { CliOutput, Command, Flag } from "effect/cli"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as FakeOpenAiServer from "../testing/FakeOpenAiServer.ts"
import * as FakeScenario from "../testing/FakeScenario.ts"

const scenario = Flag.Literals("scenario", FakeScenario.names).pipe(
  Flag.withDefault("happy"),
  Flag.withDescription(`The built-in scenario to play: ${FakeScenario.menu}.`)
)
const port = Flag.Int("port").pipe(
  Flag.filter(
    (n) => n >= 0 && n <= 65_535,
    (n) => `Expected a port between 0 and 65535, got ${n}`
  ),
  Flag.withDefault(8787),
  Flag.withDescription("The port to listen on (0 picks a free one).")
)
const host = Flag.String("host").pipe(
  Flag.filter(
    (value) => value.trim().length > 0,
    () => "Expected an address to bind, got an empty string"
  ),
  Flag.withDefault("127.0.0.1"),
  Flag.withDescription("The address to bind.")
)
const api = Flag.Literals("api", ["both", "chat", "responses"] as const).pipe(
  Flag.withDefault("both"),
  Flag.withDescription(
    "Which OpenAI API to speak: chat (/v1/chat/completions), responses (/v1/responses, background mode, resume, cancel) or both."
  )
)
const apiKey = Flag.String("api-key").pipe(
  Flag.filter(
    (value) => value.length > 0,
    () => "Expected a key, got an empty string"
  ),
  Flag.optional,
  Flag.withDescription("Require `Authorization: Bearer <key>`; anything else gets a 401.")
)

/** One `error: …` line on stderr and exit code 1, without the runtime printing the failure again. */
const fail = (message: string) =>
  Effect.sync(() => {
    process.stderr.write(`error: ${message}\n`)
    process.exitCode = 1
  })

const command = Command.make("fake-server", { scenario, port, host, api, apiKey }, (config) =>
  Effect.gen(function* () {
    const server = yield* FakeOpenAiServer.make({
      ...FakeScenario.named[config.scenario],
      port: config.port,
      host: config.host,
      record: false,
      apis: config.api === "both" ? ["chat", "responses"] : [config.api],
      ...(Option.isSome(config.apiKey) ? { apiKey: config.apiKey.value } : {})
    })
    const speaks = config.api === "both" ? "" : `, api: ${config.api}`
    yield* Console.log(`FakeOpenAiServer (scenario: ${config.scenario}${speaks}) listening on ${server.url}`)
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    Effect.catchTag("ListenError", (error) => fail(error.message))
  )
).pipe(Command.withDescription("A fake OpenAI-compatible server with scripted faults."))

/** Usage after a bad invocation goes to stderr: stdout is for the `listening on` line. */
const stderrUsage = CliOutput.layerPresenter({
  present: (event) =>
    event._tag === "InvalidInvocation" || (event._tag === "Help" && event.reason === "Implicit")
      ? Effect.gen(function* () {
          const formatter = yield* CliOutput.Formatter
          yield* Console.error(formatter.formatHelpDoc(event.helpDoc))
          if (event._tag === "InvalidInvocation") yield* Console.error(formatter.formatErrors(event.errors))
        })
      : CliOutput.defaultPresenter.present(event)
})

Command.run(command, { version: "0.1.0" }).pipe(
  Effect.provide(stderrUsage),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain
)
