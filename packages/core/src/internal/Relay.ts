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
 * failure. `stop` interrupts the running step and stops the work waited for.
 *
 * @internal
 */
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"

type Start<A> = (resume: (outcome: Effect.Effect<A>) => void) => Effect.Effect<Effect.Effect<void>>

/**
 * Work that needs no waiting fiber. The function it is made with (run once,
 * in the program's fiber, uninterruptibly) starts the work and returns what
 * stops it; the work calls `resume` once, with the effect whose result the
 * program gets.
 */
export class Detached<A> {
  private start: Start<A> | undefined

  constructor(start: Start<A>) {
    this.start = start
  }

  /** Starts the work, once (and lets go of how: the program may hold this while it waits). */
  run(resume: (outcome: Effect.Effect<A>) => void): Effect.Effect<Effect.Effect<void>> {
    const start = this.start
    this.start = undefined
    return start === undefined ? Effect.die("Relay.Detached started twice") : start(resume)
  }

  [Symbol.iterator](): Iterator<Detached<A>, A, unknown> {
    return new Once(this)
  }
}

// The iterator of a `Detached`: yields it once, then returns what the program was given for it (what a
// generator would do, without a generator's frame).
class Once<A> implements Iterator<Detached<A>, A, unknown> {
  private yielded = false
  private readonly detached: Detached<A>

  constructor(detached: Detached<A>) {
    this.detached = detached
  }

  next(value?: unknown): IteratorResult<Detached<A>, A> {
    if (this.yielded) return { done: true, value: value as A }
    this.yielded = true
    return { done: false, value: this.detached }
  }
}

/** What a program yields. */
// biome-ignore lint/suspicious/noExplicitAny: each yield has its own result type, as in Effect.gen
export type Instruction<E> = Effect.Effect<any, E> | Detached<any>

/** A program: what a generator function of instructions returns. */
export type Program<E, A = unknown> = Iterator<Instruction<E>, A, unknown>

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
  /** Told when the program has ended (while someone stops it). */
  private waiters: Array<() => void> | undefined = undefined
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
   * Stops the program and waits for its end: interrupts its step, and stops
   * the work it started. It ends as interrupted (or with its own exit, if it
   * ended first). Also when called from within a step (a consumer that stops
   * as soon as a step hands it an event, say): that step ends at its next
   * yield, or stops the work it has just started.
   */
  stop(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.done) return Effect.void
      if (!this.stopping) {
        this.stopping = true
        if (!this.running) this.halt(Exit.interrupt())
        else this.fiber?.interruptUnsafe()
      }
      return this.ended()
    })
  }

  /** `stop`, from outside any fiber. */
  stopUnsafe(): void {
    Effect.runForkWith(this.context)(this.stop())
  }

  private ended(): Effect.Effect<void> {
    return Effect.callback<void>((resume) => {
      if (this.done) return resume(Effect.void)
      this.waiters ??= []
      this.waiters.push(() => resume(Effect.void))
    })
  }

  // Runs the program from `input` (what its last yield gets) in a new fiber, until it ends or waits.
  private step(input: Effect.Effect<unknown, E>): void {
    this.running = true
    const fiber = Effect.runForkWith(this.context)(Effect.flatMap(input, (value) => this.advance(value)))
    if (this.running) {
      this.fiber = fiber
      // Stopped during its synchronous start: interrupt it where it waits now.
      if (this.stopping) fiber.interruptUnsafe()
    }
    fiber.addObserver((exit) => this.stepped(exit))
  }

  private advance(value: unknown): Effect.Effect<unknown, E> {
    if (this.stopping) return Effect.interrupt
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
    // Started and registered in one go: an interruption cannot come between (and leave the work unstoppable).
    return Effect.uninterruptible(
      Effect.map(instruction.run(resume), (stop) => {
        if (!resumed) this.stopWork = stop
        return waiting
      })
    )
  }

  private stepped(exit: Exit.Exit<unknown, E>): void {
    this.running = false
    this.fiber = undefined
    const early = this.early
    this.early = undefined
    if (!Exit.isSuccess(exit) || exit.value !== waiting) this.halt(exit)
    else if (this.stopping) this.halt(Exit.interrupt())
    else if (early !== undefined) this.step(early)
  }

  // Ends with `exit` once the work waited for, if any, is stopped.
  private halt(exit: Exit.Exit<unknown, E>): void {
    const stopWork = this.stopWork
    this.stopWork = undefined
    if (stopWork === undefined) this.end(exit)
    else
      Effect.runForkWith(this.context)(
        Effect.ensuring(
          stopWork,
          Effect.sync(() => this.end(exit))
        )
      )
  }

  private end(exit: Exit.Exit<unknown, E>): void {
    if (this.done) return
    this.done = true
    this.owner.ended(exit)
    const waiters = this.waiters
    this.waiters = undefined
    if (waiters !== undefined) for (const waiter of waiters) waiter()
  }
}
