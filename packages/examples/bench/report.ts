/** Pieces of the benchmark report: Markdown tables, ratios and targets. */
import { round } from "./stats.ts"

/** A goal, what was measured against it, and whether it holds. */
export interface Target {
  readonly name: string
  readonly measured: string
  readonly met: boolean
}

/** A Markdown table. */
export const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string | number>>) =>
  [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.join(" | ")} |`)
  ].join("\n")

/** `a / b` as `1.23×`. */
export const ratio = (a: number, b: number) => `${round(a / b)}×`

/** The targets as a Markdown table, unmet ones in bold. */
export const targetTable = (targets: ReadonlyArray<Target>) =>
  table(
    ["target", "measured", "met"],
    targets.map((t) => [t.name, t.measured, t.met ? "yes" : "**no**"])
  )
