/**
 * The browser side of the backend example's page, as script text inlined
 * into the HTML (no build step): posts the prompt to `/api/chat`, reads the
 * server-sent events as they arrive, and draws the answer, the recovery
 * steps, the summary and the outcome.
 *
 * **Details**
 *
 * - Stop aborts the request: the server sees the client go away and
 *   interrupts the answer and its upstream call. The text so far stays.
 * - A connection lost mid-answer is resumed on its own: the page asks for
 *   the answer's frames after the last SSE id it has (`Last-Event-ID`), a few
 *   times with growing pauses (about 5 s in all), so each character shows
 *   once; any instance sharing the answers can serve it.
 * - A server that stays gone (killed, network down) is told apart from one
 *   that answered with an error: "the connection to the server was lost
 *   after N characters", or "cannot reach the server" before any answer.
 */
export const script = `
const form = document.getElementById("ask")
const input = document.getElementById("prompt")
const ask = document.getElementById("send")
const stop = document.getElementById("stop")
const answer = document.getElementById("answer")
const status = document.getElementById("status")
const events = document.getElementById("events")
const summary = document.getElementById("summary")
const error = document.getElementById("error")
let started = 0
let text = null
let chars = 0
let controller = null
let answerId = null
let lastId = null
let finished = false
const reconnectDelays = [250, 500, 1000, 1500, 2000]
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const setState = (state, message, recovering) => {
  document.body.dataset.state = state
  status.textContent = message
  status.classList.toggle("recovering", Boolean(recovering))
}
const fail = (message) => {
  setState("failed", "Failed: " + message)
  error.textContent = message
}
const seconds = () => ((performance.now() - started) / 1000).toFixed(1) + " s"
const recovery = (message) => {
  setState("streaming", message, true)
  const item = document.createElement("li")
  const time = document.createElement("time")
  time.textContent = seconds()
  item.append(time, message)
  events.append(item)
  if (answer.textContent.length > 0) {
    const seam = document.createElement("span")
    seam.className = "seam"
    seam.title = message
    answer.append(seam)
  }
  text = null
}
const handle = (name, data) => {
  switch (name) {
    case "text-delta":
      if (text === null) { text = document.createTextNode(""); answer.append(text) }
      text.appendData(data.delta)
      chars += [...data.delta].length
      if (status.classList.contains("recovering") || status.textContent === "Waiting for the first token…") {
        setState("streaming", "Streaming…")
      }
      break
    case "retrying":
    case "fallback":
    case "cooldown":
    case "resumed":
      recovery(data.status)
      break
    case "restart":
      // midStream "restart": the partial answer is withdrawn and a fresh one follows.
      recovery(data.status)
      answer.replaceChildren()
      text = null
      chars = 0
      break
    case "finish":
      setState("done", "Done: finished (" + data.reason + ")")
      break
    case "error":
      fail(data.message)
      break
    case "summary":
      summary.textContent = data.summary
      finished = true
      break
  }
}
const lost = () =>
  chars > 0
    ? "the connection to the server was lost after " + chars + " characters (the server stopped or the network dropped); ask again once it is back"
    : "the connection to the server was lost before the answer started (the server stopped or the network dropped); ask again once it is back"

// Reads one response's frames; returns when it ends (throws when the connection breaks).
const readFrames = async (response) => {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ""
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return
    buffer += value
    let end
    while ((end = buffer.indexOf("\\n\\n")) >= 0) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      let name = "message"
      let data = ""
      let id = null
      for (const line of block.split("\\n")) {
        if (line.startsWith("event: ")) name = line.slice(7)
        else if (line.startsWith("data: ")) data += line.slice(6)
        else if (line.startsWith("id: ")) id = line.slice(4)
      }
      if (id !== null) lastId = id
      if (data !== "") handle(name, JSON.parse(data))
    }
  }
}

// The rest of the answer after the last frame shown; null when it cannot be had (yet).
const reconnect = async () => {
  try {
    const response = await fetch("/api/answers/" + answerId + "/events", {
      headers: lastId === null ? {} : { "last-event-id": lastId },
      signal: controller.signal
    })
    if (response.status === 404) return "gone"
    return response.ok && response.body !== null ? response : null
  } catch (cause) {
    if (controller.signal.aborted) throw cause
    return null
  }
}

stop.addEventListener("click", () => {
  if (answerId !== null) fetch("/api/answers/" + answerId, { method: "DELETE" }).catch(() => {})
  controller?.abort()
})

form.addEventListener("submit", async (submit) => {
  submit.preventDefault()
  answer.replaceChildren()
  events.replaceChildren()
  summary.textContent = ""
  error.textContent = ""
  text = null
  chars = 0
  answerId = null
  lastId = null
  finished = false
  started = performance.now()
  controller = new AbortController()
  ask.disabled = true
  stop.hidden = false
  setState("streaming", "Waiting for the first token…")
  let answering = false
  try {
    const response = await fetch("/api/chat", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt: input.value }),
      signal: controller.signal
    })
    if (!response.ok || response.body === null) {
      const body = await response.json().catch(() => ({}))
      throw new Error(body.error?.message ?? "HTTP " + response.status)
    }
    answering = true
    answerId = response.headers.get("x-answer-id")
    let current = response
    for (let tries = 0; ; ) {
      if (current !== null) {
        try {
          await readFrames(current)
        } catch (cause) {
          if (controller.signal.aborted || !(cause instanceof TypeError)) throw cause
        }
      }
      if (finished || document.body.dataset.state !== "streaming") break
      if (answerId === null || tries >= reconnectDelays.length) { fail(lost()); break }
      setState("streaming", "Connection lost after " + chars + " characters: reconnecting…", true)
      await pause(reconnectDelays[tries++])
      current = await reconnect()
      if (current === "gone") { fail(lost()); break }
      if (current !== null) {
        tries = 0
        recovery("connection lost after " + chars + " chars: resumed where it stopped")
      }
    }
  } catch (cause) {
    if (controller.signal.aborted) {
      setState("stopped", "Stopped after " + chars + " characters: you cancelled the answer.")
      summary.textContent = "stopped by you after " + seconds() + " · " + chars + " chars"
    } else if (cause instanceof TypeError) {
      fail(answering ? lost() : "cannot reach the server (is it running?)")
    } else {
      fail(cause.message)
    }
  } finally {
    ask.disabled = false
    stop.hidden = true
    controller = null
  }
})
`
