/**
 * The fake server's Node HTTP server: listening, counting connections, and
 * closing every connection when its scope ends.
 *
 * Part of `FakeOpenAiServer`; not re-exported from `/testing`.
 *
 * @since 0.1.0
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Connections from "./Connections.ts"

/**
 * The server could not listen: the port is taken, the host does not resolve
 * or is not an address of this machine, or binding is not allowed. The
 * message says where and why, e.g. `cannot listen on 127.0.0.1:8787: listen
 * EADDRINUSE: address already in use 127.0.0.1:8787`.
 *
 * @since 0.1.0
 */
export class ListenError extends Schema.TaggedError<ListenError>()("ListenError", {
  host: Schema.String,
  port: Schema.Number,
  message: Schema.String
}) {}

/**
 * Where to listen and what to do with each request.
 *
 * @since 0.1.0
 */
export interface Options {
  readonly port: number
  readonly host: string
  readonly connections: Connections.Connections
  readonly onRequest: (req: Http.IncomingMessage, res: Http.ServerResponse) => void
}

/**
 * Listens until the scope closes, then closes every connection and waits
 * until they are all gone. Returns the base URL (ending in `/v1`) and port.
 *
 * @since 0.1.0
 */
export const listen = (
  options: Options
): Effect.Effect<{ readonly url: string; readonly port: number }, ListenError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<Http.Server, ListenError>((resume) => {
      const server = Http.createServer({ noDelay: true }, options.onRequest)
      options.connections.watch(server)
      const { host, port } = options
      const failed = (error: Error) =>
        resume(
          Effect.fail(
            new ListenError({ host, port, message: `cannot listen on ${host}:${port}: ${error.message}` })
          )
        )
      server.once("error", failed)
      server.listen(port, host, () => {
        server.off("error", failed)
        resume(Effect.succeed(server))
      })
    }),
    (server) =>
      Effect.callback<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      }).pipe(Effect.andThen(options.connections.awaitOpen(0)))
  ).pipe(
    Effect.map((server) => {
      const address = server.address() as AddressInfo
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address
      return { url: `http://${host}:${address.port}/v1`, port: address.port }
    })
  )
