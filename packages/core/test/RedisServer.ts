// A real `redis-server` for tests: started on a free 127.0.0.1 port with no persistence, stopped (and
// startable again on the same port, to test an outage) by the test, and always stopped with its scope.
// `./dev test` installs Debian's redis-server when it is missing.
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { createServer, Socket } from "node:net"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as References from "effect/References"
import type * as Scope from "effect/Scope"

export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Kills the server (SIGKILL: an abrupt outage) and waits until it is gone. */
  readonly stop: Effect.Effect<void>
  /** Starts it again on the same port, empty (no persistence). */
  readonly start: Effect.Effect<void>
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject()))
    })
  })

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = new Socket()
    socket.once("connect", () => {
      socket.write("PING\r\n")
    })
    socket.once("data", (data) => {
      socket.destroy()
      resolve(data.toString().startsWith("+PONG"))
    })
    socket.once("error", () => resolve(false))
    socket.connect(port, "127.0.0.1")
  })

const launch = async (port: number): Promise<ChildProcess> => {
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--loglevel",
      "warning"
    ],
    { stdio: "ignore" }
  )
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}`)))
  )
  exited.catch(() => {})
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (await Promise.race([accepts(port), exited])) return child
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  child.kill("SIGKILL")
  throw new Error(`redis-server did not accept connections on port ${port} within 10 s`)
}

const kill = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill("SIGKILL")
  })

/** The server of a test suite. */
export class Server extends Context.Service<Server, RedisServer>()("test/RedisServer") {}

/** Whether `redis-server` can be run here. */
export const available = (): boolean => spawnSync("redis-server", ["--version"]).status === 0

/** A running `redis-server`, stopped when the scope closes. */
export const make: Effect.Effect<RedisServer, never, Scope.Scope> = Effect.gen(function* () {
  if (!available()) {
    return yield* Effect.die(
      new Error("redis-server is not installed: `./dev test` installs Debian's package")
    )
  }
  const port = yield* Effect.promise(freePort)
  let child = yield* Effect.promise(() => launch(port))
  yield* Effect.addFinalizer(() => Effect.promise(() => kill(child)))
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: Effect.promise(() => kill(child)),
    start: Effect.promise(async () => {
      child = await launch(port)
    })
  }
})

/**
 * A suite's server, with logging at error level only: the client's reconnect warnings and the
 * warnings of an outage are expected in these tests.
 */
export const layer: Layer.Layer<Server> = Layer.merge(
  Layer.effect(Server, make),
  Layer.succeed(References.MinimumLogLevel, "Error")
)
