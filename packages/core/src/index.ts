/**
 * @since 0.1.0
 */
export * as AiErrorMapping from "./AiErrorMapping.ts"
export * as ChatCompletion from "./ChatCompletion.ts"
export * as ChatError from "./ChatError.ts"
export * as ChatModel from "./ChatModel.ts"
export * as ChatRequest from "./ChatRequest.ts"
export * as ChatTelemetry from "./ChatTelemetry.ts"
export * as ErrorRateMonitor from "./ErrorRateMonitor.ts"
export * as FallbackStep from "./FallbackStep.ts"
export * as FinishReason from "./FinishReason.ts"
export * as ModelEvent from "./ModelEvent.ts"
export * as ResiliencePolicy from "./ResiliencePolicy.ts"
export * as ResilientChat from "./ResilientChat.ts"
export * as ResponseCache from "./ResponseCache.ts"
export * as RetrySchedule from "./RetrySchedule.ts"
export * as StreamEvent from "./StreamEvent.ts"
export * as Usage from "./Usage.ts"
