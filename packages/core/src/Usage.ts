/**
 * Token usage reported by a provider for one completion.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

const TokenCount = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/**
 * Token counts of one completion: prompt (`inputTokens`), generated
 * (`outputTokens`) and their sum.
 *
 * @since 0.1.0
 */
export const Usage = Schema.Struct({
  inputTokens: TokenCount,
  outputTokens: TokenCount,
  totalTokens: TokenCount
})

/**
 * @since 0.1.0
 */
export type Usage = typeof Usage.Type
