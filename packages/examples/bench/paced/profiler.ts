/**
 * A CPU profile of one stretch of a worker (the measured streams only, not
 * start-up or warm-up), written as a `.cpuprofile` file that Chrome DevTools
 * and `profile-summary.ts` read.
 */
import { writeFileSync } from "node:fs"
import * as Inspector from "node:inspector/promises"

/** Profiles `body` into `file` (or just runs it when `file` is undefined). */
export const profile = async <A>(file: string | undefined, body: () => Promise<A>): Promise<A> => {
  if (file === undefined) return body()
  const session = new Inspector.Session()
  session.connect()
  await session.post("Profiler.enable")
  await session.post("Profiler.setSamplingInterval", { interval: 200 })
  await session.post("Profiler.start")
  try {
    return await body()
  } finally {
    const { profile } = await session.post("Profiler.stop")
    writeFileSync(file, JSON.stringify(profile))
    session.disconnect()
  }
}
