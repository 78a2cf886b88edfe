/**
 * How the examples' programs (`demo`, `serve`) run from a shell: usage and
 * every complaint on stderr (stdout is the program's own output), exactly one
 * `error: …` line per failure, never a stack trace, and an exit code that
 * says what happened.
 *
 * | outcome                                   | exit code |
 * | ----------------------------------------- | --------- |
 * | success, `--help`, `--version`            | 0         |
 * | a failure (start-up, pre-flight, the call) | 1         |
 * | a bad flag or argument (usage on stderr)  | 2         |
 * | Ctrl-C                                    | 130       |
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import { type CliError, CliOutput, Command } from "effect/cli"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as References from "effect/References"

/** A failure the program has put into words: printed as `error: <message>`, exit code 1. */
export class Failed extends Data.TaggedError("Failed")<{ readonly message: string }> {}

/**
 * An error and the causes it wraps, in one line, skipping empty messages:
 * `listen EADDRINUSE: address already in use 127.0.0.1:3000`.
 */
export const oneLine = (error: unknown): string => {
  const parts: Array<string> = []
  for (let current = error, depth = 0; current != null && depth < 5; depth++) {
    const text = current instanceof Error ? current.message : typeof current === "string" ? current : ""
    const line = text.split("\n")[0]?.trim().replace(/\.$/, "") ?? ""
    if (line !== "" && !parts.some((part) => part.includes(line))) parts.push(line)
    current = current instanceof Error ? current.cause : undefined
  }
  return parts.length > 0 ? parts.join(": ") : String(error)
}

/**
 * The arguments with `--flag -1s` joined into `--flag=-1s`.
 *
 * **Details**
 *
 * The CLI parser reads a token starting with `-` as flags (`-1s` as `-1 -s`),
 * so `--base-delay -1s` would complain about unknown flags `-1` and `-s`
 * instead of the value. Joined, the value reaches the flag's own check, which
 * names the flag and the range it accepts.
 */
export const normaliseArgs = (args: ReadonlyArray<string>): Array<string> =>
  args.reduce<Array<string>>((out, arg) => {
    const previous = out.at(-1)
    if (previous !== undefined && /^--[^=\s]+$/.test(previous) && /^-[\d.]/.test(arg)) {
      out[out.length - 1] = `${previous}=${arg}`
    } else {
      out.push(arg)
    }
    return out
  }, [])

/** One parse error in one line, suggestions included. */
const complaint = (error: CliError.NonShowHelpErrors): string =>
  error._tag === "UnrecognizedOption"
    ? `Unrecognized flag: ${error.option}${error.suggestions.length > 0 ? ` (did you mean ${error.suggestions.join(" or ")}?)` : ""}`
    : error.message.replace(/\s*\n\s*/g, " ")

/** Help and version on stdout when asked for; an invalid invocation's usage and errors on stderr. */
const presenter: CliOutput.Presenter = {
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Effect.gen(function* () {
          const formatter = CliOutput.defaultFormatter({ colors: process.stderr.isTTY === true })
          yield* Console.error(formatter.formatHelpDoc(event.helpDoc))
          for (const error of event.errors) yield* Console.error(`error: ${complaint(error)}`)
        })
      : CliOutput.defaultPresenter.present(event)
}

const exitWith = (code: number) =>
  Effect.sync(() => {
    process.exitCode = code
  })

/** Puts any way the program can end into the table above. */
const report = <E>(cause: Cause.Cause<E>): Effect.Effect<void, E> => {
  if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause)
  const error = Cause.squash(cause)
  if (typeof error === "object" && error !== null && "_tag" in error && error._tag === "ShowHelp") {
    return exitWith((error as CliError.ShowHelp).errors.length > 0 ? 2 : 0)
  }
  const message = error instanceof Failed ? error.message : oneLine(error)
  return Effect.andThen(Console.error(`error: ${message}`), exitWith(1))
}

/**
 * Runs `command` as the program's main, with the process's arguments.
 *
 * **Details**
 *
 * Library logs go to stderr at level Error and above. A handler fails with
 * {@link Failed} to explain itself; any other failure or defect is printed
 * with {@link oneLine}.
 */
export const run = <Name extends string, Input, ContextInput, E, R extends NodeServices.NodeServices>(
  command: Command.Command<Name, Input, ContextInput, E, R>,
  options: { readonly version: string }
): void => {
  // `R` is within what NodeServices provides; TypeScript cannot see through the generic `Exclude`.
  const main: Effect.Effect<void, unknown, NodeServices.NodeServices> = Command.runWith(
    command,
    options
  )(normaliseArgs(process.argv.slice(2)))
  main.pipe(
    Effect.catchCause(report),
    Effect.provide(CliOutput.layerPresenter(presenter)),
    Effect.provideService(References.MinimumLogLevel, "Error"),
    Effect.provideService(Logger.LogToStderr, true),
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain({ disableErrorReporting: true })
  )
}
