/**
 * A small client of the backend example's answers, for tests and
 * benchmarks: reads an SSE response into frames (with their ids), stops
 * when told (as a dropped connection would), and resumes an answer from an
 * id with `Last-Event-ID`.
 */

/** One frame as received. */
export interface Received {
  readonly id: string | undefined
  readonly event: string
  readonly data: Record<string, unknown>
}

/** The complete frames of an SSE body (a trailing partial frame is left out). */
export const parse = (text: string): Array<Received> =>
  text
    .slice(0, text.lastIndexOf("\n\n") + 2)
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const lines = block.split("\n")
      const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2)
      return { id: field("id"), event: field("event") ?? "message", data: JSON.parse(field("data") ?? "{}") }
    })

/** The answer text in `frames`. */
export const textOf = (frames: ReadonlyArray<Received>): string =>
  frames
    .filter((frame) => frame.event === "text-delta")
    .map((frame) => String(frame.data.delta))
    .join("")

/** Stop once `count` text frames are in. */
export const deltas =
  (count: number) =>
  (frames: ReadonlyArray<Received>): boolean =>
    frames.filter((frame) => frame.event === "text-delta").length >= count

export interface Read {
  readonly status: number
  /** The `x-answer-id` header ("" when absent). */
  readonly answerId: string
  readonly frames: ReadonlyArray<Received>
  /** `performance.now()` when each frame arrived. */
  readonly arrivals: ReadonlyArray<number>
}

/**
 * Reads an SSE response until `enough` says so (then drops the connection)
 * or it ends, for at most `timeoutMillis`.
 */
export const read = async (
  url: string,
  init: RequestInit = {},
  enough: (frames: ReadonlyArray<Received>) => boolean = () => false,
  timeoutMillis = 20_000
): Promise<Read> => {
  const controller = new AbortController()
  const response = await fetch(url, { ...init, signal: controller.signal })
  const arrivals: Array<number> = []
  let text = ""
  const deadline = Date.now() + timeoutMillis
  try {
    if (response.body !== null) {
      const reader = response.body.getReader()
      const decoder = new TextDecoder()
      while (Date.now() < deadline && !enough(parse(text))) {
        const { value, done } = await reader.read()
        if (done) break
        text += decoder.decode(value, { stream: true })
        const count = parse(text).length
        while (arrivals.length < count) arrivals.push(performance.now())
      }
    }
  } finally {
    controller.abort()
  }
  return {
    status: response.status,
    answerId: response.headers.get("x-answer-id") ?? "",
    frames: parse(text),
    arrivals
  }
}

/** Asks `base` (the server's URL) for an answer to `prompt`. */
export const ask = (base: string, prompt: string, enough?: (frames: ReadonlyArray<Received>) => boolean) =>
  read(
    `${base}/api/chat`,
    { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt }) },
    enough
  )

/** The frames of answer `id` after `lastEventId` (all without one), from `base`. */
export const resume = (base: string, id: string, lastEventId: string | undefined) =>
  read(`${base}/api/answers/${id}/events`, {
    headers: lastEventId === undefined ? {} : { "last-event-id": lastEventId }
  })
