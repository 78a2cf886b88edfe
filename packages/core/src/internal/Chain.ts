/**
 * The fallback chain as a list of steps: the primary streaming call, then
 * each fallback step, each either a model target or a whole answer (cache,
 * static text). Other providers given as layers are built once, here.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { ChatCompletion } from "../ChatCompletion.ts"
import { ChatModel, type Service as ChatModelService } from "../ChatModel.ts"
import type { ChatRequest } from "../ChatRequest.ts"
import * as FallbackStep from "../FallbackStep.ts"

/** A model to call: the service, the model name, and the circuit breaker key. */
export interface Target {
  readonly service: ChatModelService
  readonly model: string
  readonly streaming: boolean
  readonly key: string
}

/** One step of the chain: a model to call, or a whole answer to serve. */
export type Step =
  | {
      readonly _tag: "Target"
      readonly name: string
      readonly target: (request: ChatRequest) => Target
      /** Whether its model can resume a broken generation (`ChatModel.resumable`). */
      readonly resumable: boolean
    }
  | { readonly _tag: "Cached"; readonly name: string }
  | { readonly _tag: "Static"; readonly name: string; readonly completion: ChatCompletion }

/** A step that calls `model` (the request's when undefined) of `service`; it can resume when the service can. */
const targetStep = (
  name: string,
  service: ChatModelService,
  key: string,
  model: string | undefined,
  streaming: boolean
): Step => ({
  _tag: "Target",
  name,
  target: (request) => {
    const called = model ?? request.model
    return { service, model: called, streaming, key: `${key}:${called}` }
  },
  resumable: service.resumable !== undefined
})

/** The steps of a chain over `primary`: the primary streaming call first. */
export const make = Effect.fnUntraced(function* (
  primary: ChatModelService,
  fallback: ReadonlyArray<FallbackStep.FallbackStep>
): Effect.fn.Return<ReadonlyArray<Step>, never, Scope.Scope> {
  const steps: Array<Step> = [targetStep("primary", primary, primary.provider, undefined, true)]
  for (const step of fallback) {
    const name = FallbackStep.name(step)
    switch (step._tag) {
      case "NonStreaming":
        steps.push(targetStep(name, primary, primary.provider, undefined, false))
        break
      case "Model":
        steps.push(targetStep(name, primary, primary.provider, step.model, step.streaming))
        break
      case "ChatModel": {
        const service: ChatModelService = Layer.isLayer(step.chatModel)
          ? Context.get(yield* Layer.build(step.chatModel as Layer.Layer<ChatModel>), ChatModel)
          : (step.chatModel as ChatModelService)
        steps.push(targetStep(name, service, step.name, step.model, step.streaming))
        break
      }
      case "Cached":
        steps.push({ _tag: "Cached", name })
        break
      case "Static":
        steps.push({ _tag: "Static", name, completion: step.completion })
    }
  }
  return steps
})

/** Whether two targets call the same model of the same service. */
export const sameTarget = (a: Target, b: Target): boolean => a.service === b.service && a.model === b.model
