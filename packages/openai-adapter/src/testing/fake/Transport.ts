/**
 * The fake server's side of the socket: writes that wait for the kernel,
 * split writes, resets and real-time waits for one response. Every wait is a
 * real `setTimeout` (never the Effect `Clock`), so the server keeps real time
 * even inside a test that runs under `TestClock`.
 *
 * Part of `FakeOpenAiServer`; not re-exported from `/testing`.
 *
 * @since 0.1.0
 */
import type * as Http from "node:http"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

/** Waits on a real timer; interruptible. */
export const sleep = (duration: Duration.Input): Effect.Effect<void> => {
  const millis = Duration.toMillis(duration)
  return millis <= 0
    ? Effect.void
    : Effect.callback<void>((resume) => {
        const timer = setTimeout(() => resume(Effect.void), millis)
        return Effect.sync(() => clearTimeout(timer))
      })
}

/** Writes and waits until the data is handed to the kernel. */
export const write = (res: Http.ServerResponse, data: string | Uint8Array): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    res.write(data, () => resume(Effect.void))
  })

/** Starts a Server-Sent Events response: status 200, its headers sent at once. */
export const startEvents = (res: Http.ServerResponse): void => {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive"
  })
  res.flushHeaders()
}

/** Sends a JSON response and ends it. */
export const sendJson = (
  res: Http.ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {}
): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const data = JSON.stringify(body)
    res.writeHead(status, {
      ...headers,
      "content-type": "application/json",
      "content-length": Buffer.byteLength(data)
    })
    res.end(data, () => resume(Effect.void))
  })

/**
 * Writes one frame; with `split`, a frame holding a multi-byte character is
 * written in two TCP writes that cut that character in half, with a short
 * pause between them so the client reads them separately.
 */
export const writeFrame = (res: Http.ServerResponse, data: string, split: boolean): Effect.Effect<void> => {
  if (!split) return write(res, data)
  const bytes = Buffer.from(data, "utf8")
  const lead = bytes.findIndex((byte) => byte >= 0xc0)
  if (lead < 0) return write(res, data)
  return write(res, bytes.subarray(0, lead + 1)).pipe(
    Effect.andThen(sleep(15)),
    Effect.andThen(write(res, bytes.subarray(lead + 1)))
  )
}

/**
 * Resets the connection (TCP RST) once what was written has had time to
 * reach the client, so the client sees every byte before the reset.
 */
export const reset = (res: Http.ServerResponse): Effect.Effect<void> =>
  sleep(25).pipe(
    Effect.andThen(
      Effect.sync(() => {
        const socket = res.socket
        if (socket !== null && !socket.destroyed) socket.resetAndDestroy()
      })
    )
  )

/** Ends the response (after `data`, if any) and waits until it is flushed. */
export const end = (res: Http.ServerResponse, data?: string): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (data === undefined) res.end(() => resume(Effect.void))
    else res.end(data, () => resume(Effect.void))
  })
