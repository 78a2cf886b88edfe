/**
 * Scripts for `FakeOpenAiServer`, as plain data: one `Step` per
 * `/v1/chat/completions` call, in order, then a fallback step for every call
 * after the list runs out. Named built-in scenarios serve the CLI and demo.
 *
 * Its parts live under `./fake/`: the steps (`Step.ts`), faults
 * (`Faults.ts`), continuations that misbehave (`Continuations.ts`),
 * reasoning and refusals (`Replies.ts`), canned error responses
 * (`ErrorBodies.ts`), default texts (`Texts.ts`) and the named scenarios
 * with their descriptions (`Named.ts`).
 *
 * @since 0.1.0
 */
export * from "./fake/Continuations.ts"
export * from "./fake/ErrorBodies.ts"
export * from "./fake/Faults.ts"
export * from "./fake/Named.ts"
export * from "./fake/Replies.ts"
export * from "./fake/responses/Steps.ts"
export * from "./fake/Step.ts"
export * from "./fake/Texts.ts"
