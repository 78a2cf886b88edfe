/**
 * What a call needs, built once per `ResilientChat`.
 *
 * @internal
 */
import type * as ResiliencePolicy from "../ResiliencePolicy.ts"
import type * as ResponseCache from "../ResponseCache.ts"
import type * as Breaker from "./Breaker.ts"
import type * as Chain from "./Chain.ts"
import type * as Continuation from "./Continuation.ts"
import type * as Cooldown from "./Cooldown.ts"
import type * as Deadlines from "./Deadlines.ts"

export interface Engine {
  /** The primary model's provider, for errors of the whole call. */
  readonly provider: string
  readonly steps: ReadonlyArray<Chain.Step>
  /** How a model attempt's text is read (the policy's `minOverlap`). */
  readonly kind: Continuation.Kind
  /** Whether a step's model can resume a broken generation (else no call tracks resume points). */
  readonly resumable: boolean
  readonly policy: ResiliencePolicy.Resolved
  readonly deadlines: Deadlines.Options
  readonly guard: Breaker.Guard
  readonly cooldown: Cooldown.Cooldown
  readonly cache: ResponseCache.Service
  readonly caching: boolean
}
