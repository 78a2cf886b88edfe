#!/usr/bin/env node
/**
 * The SteadyStream demo: streams one answer to stdout, showing every recovery
 * on stderr as it happens, and ends with a one-line summary.
 *
 * ```sh
 * pnpm demo "Tell me about the sea"                      # embedded fake server, scenario "flaky"
 * pnpm demo --scenario stall --idle-timeout 3s "Hello"   # another fault
 * OPENAI_API_KEY=sk-… pnpm demo "Tell me about the sea"  # the real API
 * ```
 *
 * stdout is exactly the answer (no repeated or lost character, whatever
 * fails); everything else goes to stderr. Exit code 0 on success, 1 when the
 * pre-flight check or the call fails (one line says why), and CLI usage on
 * bad flags.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { ResilientChat } from "@steadystream/core"
import { OpenAiChatModel } from "@steadystream/openai-adapter"
import * as Clock from "effect/Clock"
import { Argument, Command } from "effect/cli"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import * as Stream from "effect/Stream"
import * as Flags from "./Flags.ts"
import * as ModelSource from "./ModelSource.ts"
import * as Progress from "./Progress.ts"

const prompt = Argument.String("prompt").pipe(
  Argument.variadic(),
  Argument.withDescription('What to ask, e.g. "Tell me about the sea".')
)

/** Writes to stderr, starting on a fresh line if answer text is mid-line. */
const makeStderr = () => {
  let midLine = false
  return {
    text: (delta: string) => {
      process.stdout.write(delta)
      if (delta.length > 0) midLine = !delta.endsWith("\n")
    },
    line: (message: string) => {
      process.stderr.write(`${midLine ? "\n" : ""}${message}\n`)
      midLine = false
    }
  }
}

/** Exit code 1 once the program ends, without the runtime printing the (already explained) failure. */
const exitWithFailure = Effect.sync(() => {
  process.exitCode = 1
})

const command = Command.make("demo", { prompt, ...Flags.source, ...Flags.policy }, (flags) =>
  Effect.gen(function* () {
    const out = makeStderr()
    const source = yield* ModelSource.make(yield* Flags.sourceOptions(flags))
    const { policy, maxAttempts } = Flags.toPolicy(flags)
    const question = flags.prompt.length > 0 ? flags.prompt.join(" ") : "Tell me about the sea"
    out.line(`steadystream: answering from ${source.description}`)

    const preflight = OpenAiChatModel.preflight.pipe(
      Effect.map(() => true),
      Effect.catch((error) =>
        Effect.sync(() => {
          out.line(`error: pre-flight check failed, ${Progress.explain(error)}`)
          return false
        })
      )
    )

    const answer = Effect.gen(function* () {
      const chat = yield* ResilientChat.ResilientChat
      let progress = Progress.start(yield* Clock.currentTimeMillis)
      const result = yield* chat
        .stream({ model: source.model, messages: [{ role: "user", content: question }] })
        .pipe(
          Stream.runForEach((event) =>
            Effect.map(Clock.currentTimeMillis, (now) => {
              const status = Progress.status(progress, event, maxAttempts)
              if (status !== undefined) out.line(`  ↻ ${status}`)
              if (event.type === "text-delta") out.text(event.delta)
              progress = Progress.update(progress, event, now)
            })
          ),
          Effect.map(() => undefined),
          Effect.catch((error) => Effect.succeed(error))
        )
      const now = yield* Clock.currentTimeMillis
      out.line(`steadystream: ${Progress.summary(progress, now, result)}`)
      if (result !== undefined) out.line(`error: ${Progress.explain(result)}`)
      return result === undefined
    })

    const ok = yield* Effect.gen(function* () {
      if (!(yield* preflight)) return false
      return yield* answer
    }).pipe(Effect.provide(ResilientChat.layer(policy).pipe(Layer.provideMerge(source.layer))))
    if (!ok) yield* exitWithFailure
  }).pipe(Effect.scoped)
).pipe(
  Command.withDescription(
    "Streams an answer that survives rate limits, dropped connections, stalls and outages. " +
      "Without OPENAI_API_KEY (or --api-key / --base-url) it answers from an embedded fake OpenAI server " +
      "that injects faults, so you can watch recovery happen. The answer goes to stdout; recovery " +
      "status and a summary go to stderr."
  )
)

Command.run(command, { version: "0.1.0" }).pipe(
  // The demo prints its own recovery lines; the library's warnings show with --log-level warn, on stderr.
  Effect.provideService(References.MinimumLogLevel, "Error"),
  Effect.provideService(Logger.LogToStderr, true),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain
)
