/**
 * A program that holds no fiber while it waits for long-running work: a
 * generator of effects (written like `Effect.gen`, with `yield*`), run in
 * short-lived fibers. Each yielded effect runs in the current fiber; a
 * yielded `Detached` starts its work (say, an attempt streaming in a fiber
 * of its own) and the current fiber ends; when the work is done, the program
 * goes on in a new fiber with its outcome. A call that streams for minutes
 * then holds its program's state, not a fiber parked on the wait with its
 * stack.
 *
 * Like `Effect.gen`: a yielded effect that fails ends the program with its
 * failure; `stop` interrupts whichever part runs.
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"

/**
 * Work that needs no waiting fiber. `start` (run in the program's fiber)
 * starts it and returns what stops it; the work calls `resume` once, with
 * the effect whose result the program gets.
 */
export class Detached<A> {
  readonly start: (resume: (outcome: Effect.Effect<A>) => void) => Effect.Effect<Effect.Effect<void>>

  constructor(start: (resume: (outcome: Effect.Effect<A>) => void) => Effect.Effect<Effect.Effect<void>>) {
    this.start = start
  }

  [Symbol.iterator](): Iterator<Detached<A>, A, any> {
    return new Once(this)
  }
}

// The iterator of a `Detached`: yields it once, then returns what the program was given for it (what a
// generator would do, without a generator's frame).
class Once<A> implements Iterator<Detached<A>, A, any> {
  private yielded = false
  private readonly detached: Detached<A>

  constructor(detached: Detached<A>) {
    this.detached = detached
  }

  next(value?: any): IteratorResult<Detached<A>, A> {
    if (this.yielded) return { done: true, value: value as A }
    this.yielded = true
    return { done: false, value: this.detached }
  }
}

/** What a program yields. */
// biome-ignore lint/suspicious/noExplicitAny: each yield has its own result type, as in Effect.gen
export type Instruction<E> = Effect.Effect<any, E> | Detached<any>

/** A program: what a generator function of instructions returns. */
// biome-ignore lint/suspicious/noExplicitAny: the value a yield gets is the yielded instruction's own
export type Program<E, A = unknown> = Iterator<Instruction<E>, A, any>

/** A program of one effect. */
export const of = <A, E>(effect: Effect.Effect<A, E>): Program<E, A> =>
  (function* () {
    return yield* effect
  })()

/** Told once, when a program has ended. */
export interface Owner<E> {
  ended(exit: Exit.Exit<unknown, E>): void
}

// The end of a step whose program waits for detached work.
const waiting: unique symbol = Symbol("waiting")

/** One running program. */
export class Relay<E> {
  /** The fiber of the running step, once its synchronous start has returned. */
  private fiber: Fiber.Fiber<unknown, E> | undefined = undefined
  /** Whether a step runs. */
  private running = false
  /** How to stop the detached work waited for, if any. */
  private stopWork: Effect.Effect<void> | undefined = undefined
  /** The outcome of detached work that ended before its step did. */
  private early: Effect.Effect<unknown> | undefined = undefined
  private stopping = false
  private done = false
  private readonly program: Program<E>
  private readonly context: Context.Context<never>
  private readonly owner: Owner<E>

  constructor(program: Program<E>, context: Context.Context<never>, owner: Owner<E>) {
    this.program = program
    this.context = context
    this.owner = owner
  }

  /** Runs the program from its start. */
  start(): void {
    this.step(Effect.void)
  }

  /**
   * Stops the program: interrupts its step, or stops the work it waits for;
   * it ends as interrupted (a step's own exit, if it ended first).
   */
  stop(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.done) return Effect.void
      this.stopping = true
      const fiber = this.fiber
      return fiber === undefined
        ? this.stopped()
        : Effect.andThen(
            Fiber.interrupt(fiber),
            Effect.suspend(() => this.stopped())
          )
    })
  }

  /** `stop`, from outside any fiber. */
  stopUnsafe(): void {
    Effect.runForkWith(this.context)(this.stop())
  }

  // Once no step runs: stops the work waited for, if any, and ends.
  private stopped(): Effect.Effect<void> {
    if (this.done) return Effect.void
    const stopWork = this.stopWork ?? Effect.void
    this.stopWork = undefined
    return Effect.andThen(
      stopWork,
      Effect.sync(() => this.end(Exit.interrupt()))
    )
  }

  // Runs the program from `input` (what its last yield gets) in a new fiber, until it ends or waits.
  private step(input: Effect.Effect<unknown, E>): void {
    this.running = true
    const fiber = Effect.runForkWith(this.context)(Effect.flatMap(input, (value) => this.advance(value)))
    if (this.running) this.fiber = fiber
    fiber.addObserver((exit) => this.stepped(exit))
  }

  private advance(value: unknown): Effect.Effect<unknown, E> {
    const next = this.program.next(value)
    if (next.done) return Effect.succeed(next.value)
    const instruction = next.value
    if (!(instruction instanceof Detached)) return Effect.flatMap(instruction, (value) => this.advance(value))
    let resumed = false
    const resume = (outcome: Effect.Effect<unknown>) => {
      if (resumed || this.done || this.stopping) return
      resumed = true
      this.stopWork = undefined
      if (this.running) this.early = outcome
      else this.step(outcome)
    }
    return Effect.map(instruction.start(resume), (stop) => {
      if (!resumed) this.stopWork = stop
      return waiting
    })
  }

  private stepped(exit: Exit.Exit<unknown, E>): void {
    this.running = false
    this.fiber = undefined
    const waits = Exit.isSuccess(exit) && exit.value === waiting
    // A step that ended otherwise ends the program; one that waits while the program stops is `stop`'s.
    if (!waits) {
      this.end(exit)
      return
    }
    const early = this.early
    this.early = undefined
    if (early !== undefined && !this.stopping) this.step(early)
  }

  private end(exit: Exit.Exit<unknown, E>): void {
    if (this.done) return
    this.done = true
    this.stopWork = undefined
    this.owner.ended(exit)
  }
}
