/**
 * Invariant 4: interrupting the consumer leaves nothing behind. 1,000 streams
 * over real HTTP (slow drips, mid-stream resets with backoff waits, stalls)
 * are interrupted at random points — by taking a few events or by
 * interrupting the consuming fiber after a random delay — and afterwards the
 * server sees no open connection, no timer is pending and no fiber is alive.
 */
import { assert, describe, it } from "@effect/vitest"
import { ResilientChat, type StreamEvent } from "@steadystream/core"
import { FakeOpenAiServer, FakeScenario } from "@steadystream/openai-adapter/testing"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Stream from "effect/Stream"
import { apiKey, chatLayer, fastPolicy, request } from "./support.ts"

/**
 * A census of live fibers. Effect has no public fiber registry, so this
 * wraps the fiber class's `evaluate` (every fiber runs through it when it
 * starts) to record each fiber once and forget it when it exits. Test-only.
 */
const fiberCensus = Effect.sync(() => {
  const live = new Set<Fiber.Fiber<unknown, unknown>>()
  let peak = 0
  const seen = new WeakSet<object>()
  const probe = Effect.runFork(Effect.void)
  const proto = Object.getPrototypeOf(probe) as {
    evaluate: (this: Fiber.Fiber<unknown, unknown>, e: unknown) => void
  }
  const original = proto.evaluate
  proto.evaluate = function (effect) {
    if (!seen.has(this)) {
      seen.add(this)
      live.add(this)
      peak = Math.max(peak, live.size)
      this.addObserver(() => live.delete(this))
    }
    return original.call(this, effect)
  }
  return {
    count: () => live.size,
    peak: () => peak,
    restore: () => {
      proto.evaluate = original
    }
  }
})

/** Pending timers, as Node reports them. */
const timers = () => process.getActiveResourcesInfo().filter((name) => name === "Timeout").length

/** A small seeded PRNG, so the interruption points reproduce. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const streams = 1_000

describe("chaos: leaks", () => {
  it.live("1,000 interrupted streams leave no socket, timer or fiber behind", () =>
    Effect.gen(function* () {
      const next = random(7)
      const drip = { delay: "10 millis" } as const
      // Every answer drips slowly enough to be cut mid-body; some reset (then a backoff wait
      // and a continuation), some stall (keep-alives until the idle timeout).
      const steps = Array.from({ length: streams * 2 }, (): FakeScenario.Step => {
        const roll = next()
        if (roll < 0.15) return FakeScenario.resetAfter(1 + Math.floor(next() * 8), drip)
        if (roll < 0.25) return FakeScenario.stallAfter(1 + Math.floor(next() * 8), drip)
        return FakeScenario.answer(drip)
      })
      // A long answer (200 words, 2+ s of drip): no stream reaches its end before it is cut, so
      // no finished connection waits in the client's keep-alive pool (4 s idle timeout).
      const text = Array.from({ length: 200 }, (_, i) => `word${i}`).join(" ")
      // Every request is inspected below, so the record keeps them all.
      const server = yield* FakeOpenAiServer.make({
        apiKey,
        steps,
        text,
        keepAlive: "20 millis",
        record: { limit: streams * 10 }
      })
      const chat = yield* ResilientChat.ResilientChat.pipe(
        Effect.provide(
          chatLayer(server.url, { ...fastPolicy, retry: { baseDelay: "30 millis", maxRetries: 3 } })
        )
      )
      const census = yield* fiberCensus
      yield* Effect.addFinalizer(() => Effect.sync(census.restore))

      // A warm-up stream, so lazily started machinery (undici's timer wheel, say) is in the baseline.
      yield* chat.stream(request).pipe(Stream.take(3), Stream.runDrain, Effect.provide(Logger.layer([])))
      yield* server.awaitOpenConnections(0).pipe(Effect.timeout("10 seconds"))
      yield* Effect.sleep("50 millis")
      const before = { fibers: census.count(), timers: timers() }

      const interrupted = { byTake: 0, byFiber: 0 }
      // Streams whose answer ended before they were cut (a loaded machine reads a whole answer in one go).
      let finished = 0
      const plans = Array.from({ length: streams }, () => ({
        take: next() < 0.5 ? Math.floor(next() * 12) : undefined,
        after: Math.floor(next() * 40)
      }))
      yield* Effect.forEach(
        plans,
        (plan) =>
          plan.take !== undefined
            ? chat.stream(request).pipe(
                Stream.take(plan.take),
                Stream.runCollect,
                Effect.tap((events: ReadonlyArray<StreamEvent.StreamEvent>) =>
                  Effect.sync(() => {
                    if (events.at(-1)?.type !== "finish") interrupted.byTake++
                    else finished++
                  })
                ),
                Effect.ignore
              )
            : Effect.gen(function* () {
                const fiber = yield* chat.stream(request).pipe(
                  Stream.runForEach((event) =>
                    Effect.sync(() => {
                      if (event.type === "finish") finished++
                    })
                  ),
                  Effect.ignore,
                  Effect.forkChild
                )
                yield* Effect.sleep(plan.after)
                if (fiber.pollUnsafe() === undefined) interrupted.byFiber++
                yield* Fiber.interrupt(fiber)
              }),
        { concurrency: 25, discard: true }
      ).pipe(Effect.provide(Logger.layer([])))

      // Every response that was not reset by the server was aborted by the client: none is still
      // being read, and none ran to its end except those of streams that saw their answer finish.
      const inFlight = Effect.map(server.requests, (records) => {
        const open = records.filter((record) => {
          const step = record.call === undefined ? undefined : steps[record.call]
          const reset = step?._tag === "Answer" && step.fault?._tag === "Reset"
          return record.call !== undefined && !reset && !record.clientClosedEarly
        })
        const ranToEnd = open.filter((record) => record.finished)
        return ranToEnd.length <= finished ? open.filter((record) => !record.finished) : open
      })
      let open = yield* inFlight
      for (let i = 0; i < 250 && open.length > 0; i++) {
        yield* Effect.sleep("20 millis")
        open = yield* inFlight
      }
      assert.deepStrictEqual(
        open.map((record) => record.call),
        [],
        "responses still in flight after their streams were interrupted"
      )
      // And every connection closes. Connections opened for requests interrupted before they were
      // sent sit idle in the client's pool until its keep-alive timeout (4 s), hence the bound.
      yield* server.awaitOpenConnections(0).pipe(
        Effect.timeoutOrElse({
          duration: "10 seconds",
          orElse: () =>
            Effect.flatMap(server.openConnections, (count) =>
              Effect.die(`${count} connections still open 10 s after every stream was interrupted`)
            )
        })
      )
      // Timers and fibers settle within a short, bounded wait.
      let after = { fibers: census.count(), timers: timers() }
      for (let i = 0; i < 50 && (after.fibers > before.fibers || after.timers > before.timers); i++) {
        yield* Effect.sleep("20 millis")
        after = { fibers: census.count(), timers: timers() }
      }
      console.table({
        interruptedByTake: interrupted.byTake,
        interruptedByFiber: interrupted.byFiber,
        before,
        after,
        peak: { fibers: census.peak() }
      })
      // Most streams really were cut mid-way (the rest finished first, which is fine).
      assert.isAbove(interrupted.byTake + interrupted.byFiber, streams / 2)
      const requests = yield* server.requests
      assert.isAbove(requests.filter((r) => r.clientClosedEarly).length, streams / 4)
      // 25 streams at a time, each with at least its consumer's fiber and its attempt's.
      assert.isAbove(census.peak(), 50, "the fiber census saw the streams' fibers")
      assert.isAtMost(after.fibers, before.fibers, "fibers outlived their streams")
      assert.isAtMost(after.timers, before.timers, "timers outlived their streams")
    })
  )
})
