/**
 * What Ctrl-C does to a long-running example (`serve`): the first SIGINT or
 * SIGTERM says it is shutting down (the runtime then interrupts the program,
 * which closes what it opened, open answers first); a second one exits at
 * once; the end says how long shutting down took.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

/** Exit code of a program ended by a signal (128 + SIGINT's 2), as shells expect. */
const interruptedExitCode = 130

/**
 * Announces shutdown on stderr (through `write`) for the scope's lifetime,
 * and makes a second signal exit at once.
 *
 * **Gotchas**
 *
 * Acquire it before anything else in the program's scope: scopes release in
 * reverse order, so the second-signal handler then stays installed until
 * everything else has closed.
 */
export const announce = (write: (line: string) => void): Effect.Effect<void, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      let firstAt: number | undefined
      const onSignal = (signal: NodeJS.Signals) => {
        if (firstAt === undefined) {
          firstAt = Date.now()
          write(`${signal}: shutting down, ending open answers (press Ctrl-C again to exit at once)`)
        } else {
          write(`${signal} again: exiting at once`)
          process.exit(interruptedExitCode)
        }
      }
      // First in line, so the announcement comes before the runtime's interruption starts closing things.
      process.prependListener("SIGINT", onSignal)
      process.prependListener("SIGTERM", onSignal)
      return {
        onSignal,
        stoppedAfter: () => (firstAt === undefined ? undefined : Date.now() - firstAt)
      }
    }),
    ({ onSignal, stoppedAfter }) =>
      Effect.sync(() => {
        process.off("SIGINT", onSignal)
        process.off("SIGTERM", onSignal)
        const took = stoppedAfter()
        if (took !== undefined) write(`stopped in ${took} ms`)
      })
  ).pipe(Effect.asVoid)
