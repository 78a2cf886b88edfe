#!/usr/bin/env node
/**
 * Runs the Effect backend example: the page at `/`, the SSE chat endpoint at
 * `/api/chat`, Prometheus metrics at `/metrics`.
 *
 * ```sh
 * pnpm serve                         # embedded fake server, scenario "flaky", http://127.0.0.1:3000
 * pnpm serve --port 8080 --scenario stall --idle-timeout 3s
 * OPENAI_API_KEY=sk-… pnpm serve     # the real API
 * pnpm serve --redis redis://localhost:6379   # one of a fleet: state and answers shared on Redis
 * ```
 *
 * Prints `SteadyStream example listening on http://…` once it accepts
 * connections, then one JSON access-log line per request on stderr. Ctrl-C
 * ends open answers (each gets an `error` frame) and exits, at most 1.5 s
 * later, saying so on stderr; a second Ctrl-C exits at once. Any start-up
 * failure (a rejected key, an unreachable server, a busy port) ends it with
 * one `error:` line and exit code 1; a bad flag with the usage on stderr and
 * exit code 2 (see `Cli.ts`).
 */
import { OpenAiChatModel } from "@steadystream/openai-adapter"
import * as ByteSize from "effect/ByteSize"
import * as Context from "effect/Context"
import { Command, Flag } from "effect/cli"
import * as Effect from "effect/Effect"
import { HttpServer } from "effect/http"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ChatServer from "./ChatServer.ts"
import * as Cli from "./Cli.ts"
import * as Flags from "./Flags.ts"
import * as Fleet from "./Fleet.ts"
import * as ModelSource from "./ModelSource.ts"
import * as Progress from "./Progress.ts"
import * as Shutdown from "./Shutdown.ts"

const port = Flag.Int("port").pipe(
  Flag.filter(
    (n) => n >= 0 && n <= 65_535,
    (n) => `Expected a port between 0 and 65535, got ${n}`
  ),
  Flag.withDefault(3000),
  Flag.withDescription("The port to listen on (0 picks a free one; default 3000).")
)
const host = Flag.String("host").pipe(
  Flag.withDefault("127.0.0.1"),
  Flag.withDescription("The address to bind (default 127.0.0.1).")
)

const bodyLimits = { min: 1024, max: 100 * 1024 * 1024 }

/** `64KiB`, `2MB`, `1048576`: a size in bytes. */
const parseSize = (input: string): number | undefined => {
  const size = /^\s*\d+\s*$/.test(input) ? ByteSize.fromInput(Number(input)) : ByteSize.fromString(input)
  return size._tag === "Some" ? Number(size.value) : undefined
}

const maxBodySize = Flag.String("max-body-size").pipe(
  Flag.withMetavar("size"),
  Flag.filterMap(
    (input) => {
      const bytes = parseSize(input)
      return bytes !== undefined && bytes >= bodyLimits.min && bytes <= bodyLimits.max
        ? Option.some(bytes)
        : Option.none()
    },
    () => "Expected a size from 1KiB to 100MiB, like 64KiB, 2MB or 1048576 (bytes)"
  ),
  Flag.withDefault(ChatServer.defaultMaxBodyBytes),
  Flag.withDescription("The largest POST /api/chat body accepted; larger ones get 413 (default 1MiB).")
)

const redis = Flag.String("redis").pipe(
  Flag.withMetavar("url"),
  Flag.optional,
  Flag.withDescription(
    "Share breakers, rate-limit cooldowns, the cache and the answers with every instance on this Redis " +
      "(redis://host:port); answers then resume on any instance. Default: all in memory."
  )
)

const stderrLine = (line: string) => {
  process.stderr.write(`${line}\n`)
}

const command = Command.make(
  "serve",
  { port, host, maxBodySize, redis, midStream: Flags.midStream, ...Flags.source, ...Flags.policy },
  (flags) =>
    Effect.gen(function* () {
      yield* Shutdown.announce(stderrLine)
      const source = yield* ModelSource.make(yield* Flags.sourceOptions(flags))
      const { policy, maxAttempts } = Flags.toPolicy(flags)
      const started = Effect.gen(function* () {
        const fleet = yield* Fleet.make(Option.getOrUndefined(flags.redis), {
          ...policy,
          midStream: flags.midStream
        })
        const model = yield* Layer.build(source.layer)
        yield* OpenAiChatModel.preflight.pipe(Effect.provide(model))
        const app = ChatServer.layer({
          port: flags.port,
          host: flags.host,
          model: source.model,
          maxAttempts,
          source: source.description,
          maxBodyBytes: flags.maxBodySize,
          accessLog: stderrLine,
          ...(fleet.store === undefined ? {} : { store: fleet.store })
        }).pipe(Layer.provide(fleet.chat), Layer.provide(Layer.succeedContext(model)))
        const { address } = Context.get(yield* Layer.build(app), HttpServer.HttpServer)
        const url = HttpServer.formatAddress(address)
        yield* Effect.sync(() => {
          process.stdout.write(`SteadyStream example listening on ${url}\n`)
          process.stderr.write(`answering from ${source.description}\n`)
        })
        return yield* Effect.never
      })
      yield* started.pipe(
        Effect.mapError((error) =>
          error._tag === "ServeError"
            ? new Cli.Failed({
                message: `cannot listen on ${flags.host}:${flags.port}: ${Cli.oneLine(error)}`
              })
            : error._tag === "RedisError"
              ? new Cli.Failed({ message: `cannot connect to Redis: ${Cli.oneLine(error.cause)}` })
              : new Cli.Failed({ message: `pre-flight check failed, ${Progress.explain(error)}` })
        )
      )
    }).pipe(Effect.scoped)
).pipe(
  Command.withDescription(
    "Serves a page that streams a resilient answer and shows recovery live, with Prometheus metrics at " +
      "/metrics. Without OPENAI_API_KEY (or --api-key / --base-url) it answers from an embedded fake " +
      "OpenAI server that injects faults."
  )
)

Cli.run(command, { version: "0.1.0" })
