/**
 * Why a model stopped generating: a closed set, shared by every provider.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The closed set of finish reasons. Providers map their raw value into it and
 * may keep the raw value beside it (`rawReason` on the finish event).
 *
 * @since 0.1.0
 */
export const FinishReason = Schema.Literals(["stop", "length", "content-filter", "tool-calls", "other"])

/**
 * @since 0.1.0
 */
export type FinishReason = typeof FinishReason.Type
