// Runs the whole test suite (vitest) and ends with one plain summary line: "tests: N passed, N failed".
import { spawnSync } from "node:child_process"
import { mkdirSync, readFileSync } from "node:fs"

mkdirSync(".tmp", { recursive: true })
const results = ".tmp/vitest-results.json"
const run = spawnSync(
  process.execPath,
  [
    "node_modules/vitest/vitest.mjs",
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${results}`,
    ...process.argv.slice(2)
  ],
  { stdio: "inherit" }
)
try {
  const summary = JSON.parse(readFileSync(results, "utf8"))
  const skipped = summary.numPendingTests + summary.numTodoTests
  console.log(
    `tests: ${summary.numPassedTests} passed, ${summary.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ""}`
  )
} catch {
  console.log("tests: 0 passed, 1 failed")
}
process.exit(run.status ?? 1)
