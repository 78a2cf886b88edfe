/**
 * Test utilities: a fake OpenAI-compatible server with scripted faults.
 *
 * @since 0.1.0
 */
export * as FakeOpenAiServer from "./FakeOpenAiServer.ts"
export * as FakeScenario from "./FakeScenario.ts"
