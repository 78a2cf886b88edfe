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
