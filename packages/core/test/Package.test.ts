// Packs @steadystream/core as a user would receive it from the registry, installs the tarball into a
// project outside the workspace, and imports it with plain Node.
import { execFileSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"

const packageDir = resolve(import.meta.dirname, "..")
const work = mkdtempSync(join(tmpdir(), "steadystream-pack-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))

// Every module the source index exports must reach the user.
const exported = [...readFileSync(join(packageDir, "src/index.ts"), "utf8").matchAll(/export \* as (\w+)/g)]
  .map((m) => m[1])
  .sort()

const run = (command: string, args: ReadonlyArray<string>, cwd: string) =>
  execFileSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, CI: "" }, stdio: "pipe" })

const check = `
import * as Core from "@steadystream/core"
import { ScriptedChatModel } from "@steadystream/core/testing"
import * as ChatError from "@steadystream/core/ChatError"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

const model = Effect.gen(function* () {
  const chat = yield* Core.ChatModel.ChatModel
  const request = yield* Core.ChatRequest.validate({ model: "m", messages: [{ role: "user", content: "hi" }] })
  const events = yield* Stream.runCollect(chat.stream(request))
  return events.filter((e) => e.type === "text-delta").map((e) => e.delta).join("")
}).pipe(Effect.provide(ScriptedChatModel.layer({ script: [ScriptedChatModel.stream(ScriptedChatModel.textEvents("packed and working"))] })))

let internal = "importable"
try { await import("@steadystream/core/internal/anything") } catch (e) { internal = e.code }
const invalid = await Effect.runPromise(Effect.flip(Core.ChatRequest.validate({ model: "m", messages: [] })))
console.log(JSON.stringify({
  text: await Effect.runPromise(model),
  modules: Object.keys(Core).sort(),
  sameErrorClass: ChatError.RateLimited === Core.ChatError.RateLimited,
  invalid: invalid._tag,
  internal
}))
`

describe("the published package", () => {
  it("installs from its tarball and works with plain Node", { timeout: 180_000 }, () => {
    run("pnpm", ["pack", "--pack-destination", work], packageDir)
    const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"))
    assert.isDefined(tarball)
    const files = run("tar", ["-tzf", join(work, tarball!)], work)
      .trim()
      .split("\n")
    assert.include(files, "package/dist/index.js")
    assert.include(files, "package/dist/index.d.ts")
    assert.include(files, "package/dist/testing/index.js")
    assert.deepStrictEqual(
      files.filter((f) => f.startsWith("package/src/") || f.startsWith("package/test/")),
      [],
      "no sources or tests leak into the tarball"
    )

    const project = join(work, "app")
    run("mkdir", ["-p", project], work)
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({
        name: "app",
        private: true,
        type: "module",
        dependencies: { "@steadystream/core": `file:${join(work, tarball!)}`, effect: "4.1.0" }
      })
    )
    writeFileSync(join(project, "check.mjs"), check)
    run(
      "pnpm",
      ["install", "--ignore-workspace", "--no-frozen-lockfile", "--prefer-offline", "--reporter=silent"],
      project
    )
    const output = JSON.parse(run(process.execPath, ["check.mjs"], project))
    assert.deepStrictEqual(output, {
      text: "packed and working",
      modules: exported,
      sameErrorClass: true,
      invalid: "InvalidRequest",
      internal: "ERR_PACKAGE_PATH_NOT_EXPORTED"
    })
  })
})
