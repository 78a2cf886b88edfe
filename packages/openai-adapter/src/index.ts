/**
 * @since 0.1.0
 */
export * as OpenAiChatModel from "./OpenAiChatModel.ts"
export * as OpenAiClient from "./OpenAiClient.ts"
/**
 * @since 0.2.0
 */
export * as OpenAiResponsesModel from "./OpenAiResponsesModel.ts"
