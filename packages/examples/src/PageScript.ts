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
 * - A server that disappears (killed, network gone) is told apart from one
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
      break
  }
}
const lost = () =>
  chars > 0
    ? "the connection to the server was lost after " + chars + " characters (the server stopped or the network dropped); ask again once it is back"
    : "the connection to the server was lost before the answer started (the server stopped or the network dropped); ask again once it is back"

stop.addEventListener("click", () => controller?.abort())

form.addEventListener("submit", async (submit) => {
  submit.preventDefault()
  answer.replaceChildren()
  events.replaceChildren()
  summary.textContent = ""
  error.textContent = ""
  text = null
  chars = 0
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
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ""
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buffer += value
      let end
      while ((end = buffer.indexOf("\\n\\n")) >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        let name = "message"
        let data = ""
        for (const line of block.split("\\n")) {
          if (line.startsWith("event: ")) name = line.slice(7)
          else if (line.startsWith("data: ")) data += line.slice(6)
        }
        if (data !== "") handle(name, JSON.parse(data))
      }
    }
    if (document.body.dataset.state === "streaming") fail(lost())
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
