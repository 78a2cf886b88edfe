/**
 * A server-sent-events decoder that turns each body read into all the events
 * it completes, so one read of many small frames costs one step downstream
 * instead of one per frame. Same rules as the `openai` SDK's decoder: lines
 * end in `\n`, `\r\n` or `\r`; `:` lines are comments (keep-alives); a blank
 * line ends an event; an event still open at the end of the body is emitted.
 *
 * @internal
 */

/** One decoded event: its `event:` name (if any) and its `data:` lines joined by `\n`. */
export interface Event {
  readonly event: string | undefined
  readonly data: string
}

export interface Decoder {
  /** Decodes one read of the body, appending the events it completes to `out`. */
  readonly push: (bytes: Uint8Array, out: Array<Event>) => void
  /** At the end of the body: appends the event still open, if any. */
  readonly end: (out: Array<Event>) => void
}

export const make = (): Decoder => {
  const text = new TextDecoder()
  let buffer = ""
  let event: string | undefined
  let data: Array<string> = []

  const line = (value: string, out: Array<Event>) => {
    if (value === "") {
      if (event !== undefined || data.length > 0) {
        out.push({ event, data: data.join("\n") })
        event = undefined
        data = []
      }
      return
    }
    if (value.charCodeAt(0) === 58 /* : */) return
    const colon = value.indexOf(":")
    const field = colon === -1 ? value : value.slice(0, colon)
    let rest = colon === -1 ? "" : value.slice(colon + 1)
    if (rest.charCodeAt(0) === 32 /* space */) rest = rest.slice(1)
    if (field === "data") data.push(rest)
    else if (field === "event") event = rest
  }

  // Splits the buffer into complete lines with native searches (no per-character loop).
  const lines = (out: Array<Event>, final: boolean) => {
    let start = 0
    let cr = buffer.indexOf("\r")
    while (true) {
      if (cr !== -1 && cr < start) cr = buffer.indexOf("\r", start)
      const nl = buffer.indexOf("\n", start)
      let end: number
      let next: number
      if (cr !== -1 && (nl === -1 || cr < nl)) {
        // A `\r` at the very end may be the first half of a `\r\n` still in flight.
        if (cr + 1 === buffer.length && !final) break
        end = cr
        next = cr + 1 === nl ? cr + 2 : cr + 1
      } else if (nl !== -1) {
        end = nl
        next = nl + 1
      } else break
      line(buffer.slice(start, end), out)
      start = next
    }
    if (start > 0) buffer = buffer.slice(start)
  }

  return {
    push: (bytes, out) => {
      buffer += text.decode(bytes, { stream: true })
      lines(out, false)
    },
    end: (out) => {
      buffer += text.decode()
      lines(out, true)
      if (buffer !== "") {
        line(buffer, out)
        buffer = ""
      }
      line("", out)
    }
  }
}
