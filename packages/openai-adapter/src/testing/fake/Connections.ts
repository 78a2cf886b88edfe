/**
 * Counts a server's open TCP connections, so tests can wait for every
 * connection to close (cancellation reached the socket).
 *
 * Part of `FakeOpenAiServer`; not re-exported from `/testing`.
 *
 * @since 0.1.0
 */
import type * as Http from "node:http"
import * as Effect from "effect/Effect"

/**
 * A live count of open connections.
 *
 * @since 0.1.0
 */
export interface Connections {
  /** Starts counting the connections of `server`. */
  readonly watch: (server: Http.Server) => void
  /** How many connections are open right now. */
  readonly open: Effect.Effect<number>
  /** Waits until exactly `count` connections are open (wrap it in a timeout). */
  readonly awaitOpen: (count: number) => Effect.Effect<void>
}

/**
 * A counter at zero.
 *
 * @since 0.1.0
 */
export const make = (): Connections => {
  let open = 0
  const waiters = new Set<() => void>()
  const notify = () => {
    for (const waiter of waiters) waiter()
  }
  return {
    watch: (server) => {
      server.on("connection", (socket) => {
        open++
        notify()
        // Deferred so that the response's own "close" (which records a
        // client's early close) has run when a waiter wakes up.
        socket.on("close", () =>
          setImmediate(() => {
            open--
            notify()
          })
        )
      })
    },
    open: Effect.sync(() => open),
    awaitOpen: (count) =>
      Effect.callback<void>((resume) => {
        const check = () => {
          if (open === count) {
            waiters.delete(check)
            resume(Effect.void)
          }
        }
        waiters.add(check)
        check()
        return Effect.sync(() => waiters.delete(check))
      })
  }
}
