/**
 * Per-model circuit breaking over `effect/persistence` `CircuitBreaker`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as CircuitBreaker from "effect/persistence/CircuitBreaker"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { type ChatError, CircuitOpen } from "../ChatError.ts"
import * as ChatTelemetry from "../ChatTelemetry.ts"
import type * as ResiliencePolicy from "../ResiliencePolicy.ts"

/** Runs one attempt through the circuit of `key`; an open circuit is a `CircuitOpen` ChatError. */
export type Guard = <A>(
  source: { readonly key: string; readonly provider: string; readonly model: string },
  attempt: Effect.Effect<A, ChatError>
) => Effect.Effect<A, ChatError>

/** Errors that say something about the request, not about the model's health. */
const requestLevel: ReadonlySet<ChatError["_tag"]> = new Set([
  "InvalidRequest",
  "ContextLengthExceeded",
  "ContentFiltered",
  "NotFound",
  "CircuitOpen"
])

const classify = <A>(exit: Exit.Exit<A, ChatError>): CircuitBreaker.Outcome => {
  if (Exit.isSuccess(exit)) return CircuitBreaker.success
  const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")?.error
  if (error === undefined) return CircuitBreaker.ignored
  if (requestLevel.has(error._tag)) return CircuitBreaker.ignored
  // A 429 with a Retry-After is the rate-limit cooldown's business: the model is up, and asked for a pause.
  if (error._tag === "RateLimited" && error.retryAfter !== undefined) return CircuitBreaker.ignored
  return CircuitBreaker.failure({ retryAfter: error.retryAfter })
}

export const make = (
  options: ResiliencePolicy.Resolved["circuitBreaker"]
): Effect.Effect<Guard, never, CircuitBreaker.CircuitBreakerStore | Scope.Scope> =>
  options === false
    ? Effect.succeed((_source, attempt) => attempt)
    : Effect.tap(
        CircuitBreaker.make({
          tripPolicy:
            options._tag === "Consecutive"
              ? CircuitBreaker.consecutive(options.failures)
              : CircuitBreaker.rate({
                  threshold: options.failureRate,
                  size: options.window,
                  minimumCalls: options.minimumCalls
                }),
          openDuration: options.openFor
        }),
        // Every state change of every circuit is counted and shown by the state gauge.
        (breaker) =>
          breaker.transitions.pipe(
            Stream.runForEach((transition) =>
              ChatTelemetry.recordCircuitStateChange(transition.key, transition.to)
            ),
            Effect.forkScoped({ startImmediately: true })
          )
      ).pipe(
        Effect.map(
          (breaker): Guard =>
            (source, attempt) =>
              breaker.execute(attempt, { key: source.key, classify }).pipe(
                Effect.catchTag("CircuitBreakerError", (error) =>
                  Effect.fail(
                    new CircuitOpen({
                      provider: source.provider,
                      model: source.model,
                      message:
                        error.reason._tag === "CircuitOpen"
                          ? `Circuit open for ${source.key} after repeated failures`
                          : error.reason._tag === "CircuitHalfOpen"
                            ? `Circuit half-open for ${source.key}: a probe call is running`
                            : `Circuit breaker store failed for ${source.key}`,
                      ...(error.reason._tag === "CircuitOpen" ? { retryAfter: error.reason.retryAfter } : {})
                    })
                  )
                )
              )
        )
      )
