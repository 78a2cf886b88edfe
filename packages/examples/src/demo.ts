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
 * pre-flight check or the call fails (one `error:` line says why), 2 with
 * the usage on stderr for a bad flag or a blank prompt (see `Cli.ts`).
 */
import { ResilientChat } from "@steadystream/core"
import { OpenAiChatModel } from "@steadystream/openai-adapter"
import * as Clock from "effect/Clock"
import { Argument, Command } from "effect/cli"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Cli from "./Cli.ts"
import * as Flags from "./Flags.ts"
import * as ModelSource from "./ModelSource.ts"
import * as Progress from "./Progress.ts"

/** The question: the words given, joined; "Tell me about the sea" when none are; blank is refused. */
const prompt = Argument.String("prompt").pipe(
  Argument.variadic(),
  Argument.filterMap(
    (words) => {
      const question = words.join(" ")
      if (words.length === 0) return Option.some("Tell me about the sea")
      return question.trim() === "" ? Option.none() : Option.some(question)
    },
    () => "Expected a question with some text in it, got an empty or blank prompt"
  ),
  Argument.withDescription('What to ask (default "Tell me about the sea").')
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

const command = Command.make("demo", { prompt, ...Flags.source, ...Flags.policy }, (flags) =>
  Effect.gen(function* () {
    const out = makeStderr()
    const source = yield* ModelSource.make(yield* Flags.sourceOptions(flags))
    const { policy, maxAttempts } = Flags.toPolicy(flags)
    out.line(`steadystream: answering from ${source.description}`)

    const preflight = OpenAiChatModel.preflight.pipe(
      Effect.mapError(
        (error) => new Cli.Failed({ message: `pre-flight check failed, ${Progress.explain(error)}` })
      )
    )

    const answer = Effect.gen(function* () {
      const chat = yield* ResilientChat.ResilientChat
      let progress = Progress.start(yield* Clock.currentTimeMillis)
      const result = yield* chat
        .stream({ model: source.model, messages: [{ role: "user", content: flags.prompt }] })
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
      if (result !== undefined) return yield* new Cli.Failed({ message: Progress.explain(result) })
    })

    yield* Effect.andThen(preflight, answer).pipe(
      Effect.provide(ResilientChat.layer(policy).pipe(Layer.provideMerge(source.layer)))
    )
  }).pipe(Effect.scoped)
).pipe(
  Command.withDescription(
    "Streams an answer that survives rate limits, dropped connections, stalls and outages. " +
      "Without OPENAI_API_KEY (or --api-key / --base-url) it answers from an embedded fake OpenAI server " +
      "that injects faults, so you can watch recovery happen. The answer goes to stdout; recovery " +
      "status and a summary go to stderr."
  )
)

// The demo prints its own recovery lines; the library's warnings show with --log-level warn, on stderr.
Cli.run(command, { version: "0.1.0" })
