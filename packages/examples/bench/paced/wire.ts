/**
 * What the paced server and its clients agree on: the tokens of an answer,
 * and how a request says what it wants (in its base URL's path, since the
 * clients under test cannot add headers per call).
 */

/** How one stream is paced. */
export interface Pacing {
  /** Content tokens in the answer. */
  readonly tokens: number
  /** Milliseconds between two tokens of a stream; 0: the next turn of the server's event loop. */
  readonly gapMillis: number
  /** Send the first token at once, then hold the stream until the server is told to release it. */
  readonly hold: boolean
}

/** The `i`-th token of every answer. */
export const token = (i: number): string => `t${i % 100} `

/** The characters a whole answer of `tokens` tokens has. */
export const expectedChars = (tokens: number): number => {
  let chars = 0
  for (let i = 0; i < tokens; i++) chars += token(i).length
  return chars
}

/** The base URL (`…/v1`) that asks `origin` for answers paced as `pacing` says. */
export const baseUrl = (origin: string, pacing: Pacing): string =>
  `${origin}/paced/${pacing.tokens}/${pacing.gapMillis}/${pacing.hold ? "hold" : "go"}/v1`

/** The pacing a request path asks for, if it is one of {@link baseUrl}'s. */
export const parse = (path: string): Pacing | undefined => {
  const match = /^\/paced\/(\d+)\/(\d+)\/(hold|go)\/v1\//.exec(path)
  if (match === null) return undefined
  return { tokens: Number(match[1]), gapMillis: Number(match[2]), hold: match[3] === "hold" }
}
