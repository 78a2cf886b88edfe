/**
 * @since 0.1.0
 */
export * as OpenAiChatModel from "./OpenAiChatModel.ts"
export * as OpenAiClient from "./OpenAiClient.ts"
