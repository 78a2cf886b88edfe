/**
 * The chunk shapes other OpenAI-compatible services send around OpenAI's:
 * OpenRouter's processing comments, `provider` and `native_finish_reason`;
 * Azure's prompt-filter first chunk, filter results on choices and
 * filter-annotation chunk without a `delta`. Pure.
 *
 * Part of `FakeOpenAiServer`; not re-exported from `/testing`.
 *
 * @since 0.2.0
 */
import type * as Step from "./Step.ts"

const safe = { filtered: false, severity: "safe" }
const filterResults = { hate: safe, self_harm: safe, sexual: safe, violence: safe }

/**
 * The frames sent before the first chunk: OpenRouter's keep-alive comments,
 * Azure's prompt-filter chunk (`choices: []`).
 *
 * @since 0.2.0
 */
export const leading = (shape: Step.Shape): ReadonlyArray<string> => {
  switch (shape) {
    case "openai":
      return []
    case "openrouter":
      return [": OPENROUTER PROCESSING\n\n", ": OPENROUTER PROCESSING\n\n"]
    case "azure":
      return [
        `data: ${JSON.stringify({
          choices: [],
          created: 0,
          id: "",
          model: "",
          object: "",
          prompt_filter_results: [{ prompt_index: 0, content_filter_results: filterResults }]
        })}\n\n`
      ]
  }
}

/**
 * The frames sent after the finish chunk: Azure's filter annotation over the
 * `length` characters of the answer, a choice without a `delta`.
 *
 * @since 0.2.0
 */
export const trailing = (shape: Step.Shape, length: number): ReadonlyArray<string> =>
  shape !== "azure"
    ? []
    : [
        `data: ${JSON.stringify({
          choices: [
            {
              index: 0,
              finish_reason: null,
              content_filter_offsets: { check_offset: 0, start_offset: 0, end_offset: length },
              content_filter_results: filterResults
            }
          ],
          created: 0,
          id: "",
          model: "",
          object: ""
        })}\n\n`
      ]

/**
 * The fields a shape adds to a chunk (at its top) and to its choice.
 *
 * @since 0.2.0
 */
export const extras = (
  shape: Step.Shape,
  finishReason: string | null
): { readonly chunk: object; readonly choice: object } => {
  switch (shape) {
    case "openai":
      return none
    case "openrouter":
      return { chunk: openRouterChunk, choice: { native_finish_reason: finishReason } }
    case "azure":
      return azure
  }
}

const none = { chunk: {}, choice: {} }
const openRouterChunk = { provider: "FakeProvider" }
const azure = { chunk: {}, choice: { content_filter_results: filterResults } }
