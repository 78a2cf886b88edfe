/**
 * The paced benchmark's child processes: the server, and one worker per
 * client run (see `server.ts` and `worker.ts` for what each does).
 */
import { type ChildProcess, fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { Kind } from "./kinds.ts"

const path = (file: string) => fileURLToPath(new URL(file, import.meta.url))

export interface Server {
  readonly origin: string
  /** Starts every stream the server holds. */
  readonly release: () => void
  readonly close: () => Promise<void>
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve()
    else child.once("exit", () => resolve())
  })

/** Starts the paced server in a process of its own. */
export const server = (): Promise<Server> =>
  new Promise((resolve, reject) => {
    const child = fork(path("./server.ts"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
    child.once("error", reject)
    child.once("message", (message: { readonly origin: string }) =>
      resolve({
        origin: message.origin,
        release: () => child.send({ type: "release" }),
        close: () => {
          child.disconnect()
          return exited(child)
        }
      })
    )
  })

/** What a worker reports, by message type. */
export type Message = { readonly type: string; readonly client: string } & Record<string, number>

export interface WorkerOptions {
  readonly kind: Kind
  readonly mode: "cpu" | "open"
  readonly origin: string
  readonly streams: number
  readonly tokens: number
  readonly gapMillis: number
  /** Where to write a CPU profile of the measured streams (`cpu` mode only). */
  readonly profileFile?: string
  /** Where to write a heap snapshot while every stream is open (`open` mode only). */
  readonly heapFile?: string
  /** Called with each message as it arrives. */
  readonly onMessage?: (message: Message) => void
}

/** Runs one worker to its end; resolves with its last message. */
export const worker = (options: WorkerOptions): Promise<Message> =>
  new Promise((resolve, reject) => {
    const { kind, mode, origin, streams, tokens, gapMillis, profileFile, heapFile } = options
    const args = [kind, mode, origin, streams, tokens, gapMillis, profileFile ?? "-", heapFile ?? "-"]
    const child = fork(path("./worker.ts"), args.map(String), {
      execArgv: ["--expose-gc"],
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    let last: Message | undefined
    child.on("message", (message: Message) => {
      last = message
      options.onMessage?.(message)
    })
    child.once("error", reject)
    child.once("exit", (code) =>
      code === 0 && last !== undefined
        ? resolve(last)
        : reject(new Error(`paced worker (${options.kind}, ${options.mode}) exited with ${code}`))
    )
  })
