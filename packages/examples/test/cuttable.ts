// A TCP proxy on a free 127.0.0.1 port in front of `target` whose connections a test can cut, as a
// dropped network would, while it keeps accepting new ones.
import { connect, createServer, type Socket } from "node:net"
import * as Effect from "effect/Effect"

export const start = (target: string) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<{ url: string; cut: () => number; close: () => void }>((resolve) => {
          const { hostname, port } = new URL(target)
          const open = new Set<Socket>()
          const server = createServer((client) => {
            const upstream = connect(Number(port), hostname)
            for (const socket of [client, upstream]) {
              open.add(socket)
              socket.on("close", () => open.delete(socket))
              socket.on("error", () => {})
            }
            client.pipe(upstream).pipe(client)
          })
          server.listen(0, "127.0.0.1", () => {
            const address = server.address()
            const at = typeof address === "object" && address !== null ? address.port : 0
            resolve({
              url: `http://127.0.0.1:${at}`,
              cut: () => {
                const count = open.size
                for (const socket of open) socket.destroy()
                return count
              },
              close: () => {
                for (const socket of open) socket.destroy()
                server.close()
              }
            })
          })
        })
    ),
    (proxy) => Effect.sync(proxy.close)
  )
