/**
 * Test doubles for SteadyStream users.
 *
 * @since 0.1.0
 */
export * as ScriptedChatModel from "./ScriptedChatModel.ts"
