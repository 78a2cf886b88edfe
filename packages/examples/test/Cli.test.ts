import { assert, describe, it } from "@effect/vitest"
import * as Cli from "../src/Cli.ts"

describe("Cli", () => {
  it("joins a flag and a value that starts with a minus sign, so the flag's own check reads it", () => {
    assert.deepStrictEqual(Cli.normaliseArgs(["--base-delay", "-1s", "hi"]), ["--base-delay=-1s", "hi"])
    assert.deepStrictEqual(Cli.normaliseArgs(["--max-retries", "-1"]), ["--max-retries=-1"])
    assert.deepStrictEqual(Cli.normaliseArgs(["--port", "3000", "-h"]), ["--port", "3000", "-h"])
    assert.deepStrictEqual(Cli.normaliseArgs(["--", "-1"]), ["--", "-1"])
    assert.deepStrictEqual(Cli.normaliseArgs(["--model=x", "-2"]), ["--model=x", "-2"])
  })

  it("puts an error and its causes in one line, skipping empty messages", () => {
    const listen = Object.assign(new Error("listen EADDRINUSE: address already in use 127.0.0.1:3000"), {
      code: "EADDRINUSE"
    })
    assert.strictEqual(
      Cli.oneLine(new Error("", { cause: listen })),
      "listen EADDRINUSE: address already in use 127.0.0.1:3000"
    )
    assert.strictEqual(
      Cli.oneLine(new Error("Cannot start.\n  at x", { cause: new Error("Cannot start.") })),
      "Cannot start"
    )
    assert.strictEqual(Cli.oneLine("plain words"), "plain words")
    assert.strictEqual(Cli.oneLine(42), "42")
  })
})
