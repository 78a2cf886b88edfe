/**
 * The texts the fake server answers with when a scenario scripts none.
 *
 * @since 0.1.0
 */

/**
 * The default answer text: 56 words about the sea, ASCII only.
 *
 * @since 0.1.0
 */
export const defaultText =
  "The sea covers about seventy percent of the Earth and holds most of its water. Its currents carry heat " +
  "from the tropics toward the poles, and its surface breathes in a large share of the carbon we release. " +
  "Beneath the waves lie mountain ranges longer than any on land, and trenches deeper than Everest is tall."

/**
 * A text full of multi-byte characters (2, 3 and 4 UTF-8 bytes), for split
 * UTF-8 tests.
 *
 * @since 0.1.0
 */
export const unicodeText =
  "Café crème, naïve résumé — ☕ and 🚀 to go. Ünïcödé survives split writes: 日本語 ✓"

/**
 * The default text re-answered in other words: what a model that restarts
 * instead of continuing says (`Continuation` `Restart`).
 *
 * @since 0.2.0
 */
export const restartText =
  "The sea covers roughly 71% of our planet's surface and contains nearly all of its water. Ocean currents " +
  "move warmth from the equator toward the poles, and the surface absorbs much of the carbon dioxide we emit."

/**
 * What a reasoning model thinks before it answers (`Reasoning`).
 *
 * @since 0.2.0
 */
export const reasoningText =
  "The user asks about the sea. I should cover how much of the Earth it covers, its currents and what lies " +
  "beneath the surface, briefly."

/**
 * What a model says when it refuses (`refusal`).
 *
 * @since 0.2.0
 */
export const refusalText = "I'm sorry, but I can't help with that request."

/**
 * The preamble a model adds before a continuation (`Continue` `preamble`).
 *
 * @since 0.2.0
 */
export const preambleText = "Sure! Continuing from where I left off: "
