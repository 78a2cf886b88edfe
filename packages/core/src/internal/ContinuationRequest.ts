/**
 * The request that continues a broken answer: the delivered text as the last
 * (assistant) message. By instruction, a system message before it asks the
 * model to continue and to start by repeating an anchor (the delivered tail),
 * which `Verifier` trims; natively, the server continues the message itself.
 *
 * @internal
 */
import type { ContinuationMode } from "../ChatModel.ts"
import * as ChatRequest from "../ChatRequest.ts"
import { anchor } from "./Verifier.ts"

/** The instruction for `text`, asking for its anchor first. */
export const instructionFor = (instruction: string, text: string): string =>
  `${instruction} Begin your reply by repeating, verbatim, the last characters of that message: ` +
  `${JSON.stringify(anchor(text))}; then continue from there.`

/** `request` continued after `delivered` (the request itself when nothing was delivered). */
export const make = (
  request: ChatRequest.ChatRequest,
  delivered: string,
  options: { readonly mode: ContinuationMode; readonly instruction: string }
): ChatRequest.ChatRequest => {
  if (delivered === "") return request
  // A request that already ends with an assistant prefill is continued from prefill + delivered text.
  const prefill = ChatRequest.assistantPrefix(request)
  const head = prefill === undefined ? request.messages : request.messages.slice(0, -1)
  const text = (prefill ?? "") + delivered
  return {
    ...request,
    messages:
      options.mode === "native"
        ? [...head, { role: "assistant", content: text }]
        : [
            ...head,
            { role: "system", content: instructionFor(options.instruction, text) },
            { role: "assistant", content: text }
          ]
  }
}
