/**
 * The browser page of the backend example: one self-contained HTML document
 * (inline CSS and script, no build step, no external assets) that posts a
 * prompt to `/api/chat`, reads the server-sent events as they arrive, and
 * shows the answer growing with every recovery step beside it.
 *
 * Hooks for tests: `body[data-state]` is `idle`, `streaming`, `done`,
 * `failed` or `stopped` (the Stop button); `#answer` holds exactly the answer
 * text (recovery seams are empty elements drawn with CSS); `#status`,
 * `#events`, `#error` and `#summary` hold the rest. The script is in
 * `PageScript.ts`.
 */

import * as Favicon from "./Favicon.ts"
import { script } from "./PageScript.ts"

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const style = `
:root { color-scheme: light; --ink: #1d2330; --muted: #6b7385; --line: #e3e6ee; --accent: #2f6fed;
  --warn: #b35c00; --warn-bg: #fff4e5; --ok: #1f8a4c; --bad: #c0392b; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  background: #f6f7fb; }
main { max-width: 760px; margin: 40px auto; padding: 0 20px; }
h1 { font-size: 24px; margin: 0 0 4px; letter-spacing: -0.01em; }
h1 span { color: var(--accent); }
.tagline { margin: 0 0 24px; color: var(--muted); }
form { display: flex; gap: 8px; margin-bottom: 16px; }
input { flex: 1; padding: 10px 12px; font: inherit; border: 1px solid var(--line); border-radius: 8px;
  background: #fff; }
button { padding: 10px 18px; font: inherit; font-weight: 600; color: #fff; background: var(--accent);
  border: 0; border-radius: 8px; cursor: pointer; }
button:disabled { opacity: 0.5; cursor: default; }
button#stop { color: var(--bad); background: #fff; border: 1px solid var(--line); }
.card { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 18px 20px; }
#status { display: flex; align-items: center; gap: 8px; min-height: 24px; margin: 0 0 12px; font-size: 14px;
  color: var(--muted); }
#status::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--line); }
body[data-state="streaming"] #status::before { background: var(--accent); animation: pulse 1s infinite; }
body[data-state="streaming"] #status.recovering { color: var(--warn); }
body[data-state="streaming"] #status.recovering::before { background: var(--warn); }
body[data-state="done"] #status::before { background: var(--ok); }
body[data-state="failed"] #status { color: var(--bad); }
body[data-state="failed"] #status::before { background: var(--bad); }
@keyframes pulse { 50% { opacity: 0.3; } }
#answer { min-height: 72px; margin: 0; white-space: pre-wrap; font-size: 17px; }
body[data-state="idle"] #answer:empty::before, body[data-state="streaming"] #answer:empty::before {
  content: "The answer appears here as it streams."; color: var(--muted); }
body[data-state="failed"] #answer:empty, body[data-state="stopped"] #answer:empty { display: none; }
.seam::after { content: "\\21BB"; display: inline-block; margin: 0 2px; padding: 0 6px; font-size: 12px;
  line-height: 18px; vertical-align: 1px; color: var(--warn); background: var(--warn-bg); border-radius: 9px; }
#events { list-style: none; margin: 16px 0 0; padding: 0; font-size: 14px; }
#events:empty { display: none; }
#events li { padding: 6px 10px; margin-top: 6px; color: var(--warn); background: var(--warn-bg);
  border-radius: 6px; }
#events time { color: var(--muted); margin-right: 8px; font-variant-numeric: tabular-nums; }
#summary { margin: 14px 0 0; font-size: 13px; color: var(--muted); font-variant-numeric: tabular-nums; }
#error { margin: 14px 0 0; color: var(--bad); font-size: 14px; }
#error:empty, #summary:empty { display: none; }
footer { margin-top: 18px; font-size: 13px; color: var(--muted); }
footer a { color: inherit; }
`

/** The page, naming where the answers come from. */
export const html = (info: { readonly source: string; readonly model: string }): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SteadyStream</title>
<link rel="icon" href="${Favicon.dataUrl}">
<style>${style}</style>
</head>
<body data-state="idle">
<main>
<h1><span>Steady</span>Stream</h1>
<p class="tagline">A chat stream that survives rate limits, dropped connections, stalls and outages — without losing or repeating a character.</p>
<form id="ask">
<input id="prompt" name="prompt" value="Tell me about the sea" autocomplete="off" required pattern=".*\\S.*" title="Ask something (not only spaces)">
<button type="submit" id="send">Ask</button>
<button type="button" id="stop" hidden>Stop</button>
</form>
<section class="card">
<p id="status">Ready.</p>
<p id="answer"></p>
<ol id="events"></ol>
<p id="error"></p>
<p id="summary"></p>
</section>
<footer>Answers from ${escapeHtml(info.source)} · model ${escapeHtml(info.model)} · <a href="/metrics">metrics</a></footer>
</main>
<script type="module">${script}</script>
</body>
</html>
`
