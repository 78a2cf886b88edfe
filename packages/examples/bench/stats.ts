/** Small statistics helpers for the benchmarks. */

export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

export const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const round = (value: number, digits = 2): number => {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

/** Milliseconds since an arbitrary origin, sub-millisecond. */
export const now = (): number => performance.now()

/** Runs `tasks` with at most `limit` in flight. */
export const pool = async <A>(
  count: number,
  limit: number,
  task: (index: number) => Promise<A>
): Promise<Array<A>> => {
  const out: Array<A> = new Array(count)
  let next = 0
  const worker = async () => {
    while (next < count) {
      const index = next++
      out[index] = await task(index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker))
  return out
}
