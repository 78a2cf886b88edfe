import { spawn } from "node:child_process"
import * as Net from "node:net"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

export interface Finished {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** The environment of the test process without anything that points the examples at a real API. */
export const cleanEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env }
  delete env.OPENAI_API_KEY
  delete env.OPENAI_BASE_URL
  return env
}

/**
 * Runs a script with the running Node (24, type stripping) to completion,
 * collecting its output; killed if it outlives `timeout` or the scope.
 */
export const runScript = (
  script: string,
  args: ReadonlyArray<string>,
  timeout: Duration.Input = "20 seconds",
  env: NodeJS.ProcessEnv = {}
) =>
  Effect.callback<Finished>((resume) => {
    const child = spawn(process.execPath, [script, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...cleanEnv(), ...env }
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (data: string) => {
      stdout += data
    })
    child.stderr.setEncoding("utf8").on("data", (data: string) => {
      stderr += data
    })
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    return Effect.sync(() => {
      child.kill("SIGKILL")
    })
  }).pipe(
    Effect.timeoutOrElse({
      duration: timeout,
      orElse: () =>
        Effect.die(new Error(`${script} ${args.join(" ")} did not finish within ${String(timeout)}`))
    })
  )

/** A local port nothing listens on: bound, then released. */
export const closedPort = Effect.callback<number>((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address() as Net.AddressInfo
    server.close(() => resume(Effect.succeed(address.port)))
  })
})

/** A local port something listens on for the scope (so nothing else can bind it). */
export const busyPort = Effect.acquireRelease(
  Effect.callback<Net.Server>((resume) => {
    const server = Net.createServer()
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) =>
    Effect.callback<void>((resume) => {
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map((server) => (server.address() as Net.AddressInfo).port))

/**
 * Starts a long-running script and waits (bounded) until its stdout matches
 * `ready`; returns the match's first group, the child, its output so far and
 * its exit code (a promise). Killed when the scope closes.
 */
export const startProcess = (script: string, args: ReadonlyArray<string>, ready: RegExp) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, [script, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
        env: cleanEnv()
      })
      const output = { stdout: "", stderr: "" }
      child.stdout.setEncoding("utf8").on("data", (data: string) => {
        output.stdout += data
      })
      child.stderr.setEncoding("utf8").on("data", (data: string) => {
        output.stderr += data
      })
      // "close", not "exit": by then all of its output has been read.
      const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
      return { child, output, exited }
    }),
    ({ child, exited }) =>
      Effect.promise(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
        return exited
      })
  ).pipe(
    Effect.flatMap((started) =>
      Effect.callback<typeof started & { readonly ready: string }, Error>((resume) => {
        const check = () => {
          const match = ready.exec(started.output.stdout)
          if (match !== null) resume(Effect.succeed({ ...started, ready: match[1] ?? match[0] }))
        }
        started.child.stdout.on("data", check)
        started.child.on("exit", (code) =>
          resume(Effect.fail(new Error(`exited with ${code} before ready: ${started.output.stderr}`)))
        )
        check()
      }).pipe(Effect.timeout("15 seconds"), Effect.orDie)
    )
  )
