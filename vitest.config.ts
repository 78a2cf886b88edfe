import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: "core", root: "packages/core", include: ["test/**/*.test.ts"] } },
      {
        extends: true,
        test: { name: "openai-adapter", root: "packages/openai-adapter", include: ["test/**/*.test.ts"] }
      },
      { extends: true, test: { name: "examples", root: "packages/examples", include: ["test/**/*.test.ts"] } }
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ["default"]
  }
})
