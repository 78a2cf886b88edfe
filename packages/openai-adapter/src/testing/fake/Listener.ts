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
import type * as Scope from "effect/Scope"
import type * as Connections from "./Connections.ts"

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
): Effect.Effect<{ readonly url: string; readonly port: number }, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<Http.Server>((resume) => {
      const server = Http.createServer({ noDelay: true }, options.onRequest)
      options.connections.watch(server)
      server.listen(options.port, options.host, () => resume(Effect.succeed(server)))
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
