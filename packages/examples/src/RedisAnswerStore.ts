/**
 * The answer store of a fleet, on Redis: any instance can replay an answer
 * from any point and take it over when its producer dies.
 *
 * **Details**
 *
 * Per answer, under `${prefix}{id}:` (the braces keep an answer's keys in one
 * cluster slot): `request` (a string), `events` (a Redis Stream capped at
 * `maxFrames`; its entry ids are the SSE ids), `lease` (the producing
 * instance, expiring after `lease`), `seen` (a reader was attached within the
 * orphan timeout) and `cancel`. Everything expires `timeToLive` after the
 * answer's last frame. Appends and renewals are Lua scripts, so the lease
 * check and the write are one atomic step.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redis from "effect/persistence/Redis"
import {
  type AnswerStore,
  type Entry,
  type Options,
  type Renewal,
  resolve,
  StoreError
} from "./AnswerStore.ts"

// KEYS: lease, events, request. ARGV: owner, ttl, max frames, then event and data of each frame.
const appendScript = Redis.script(
  (keys: ReadonlyArray<string>, args: ReadonlyArray<string>) => [...keys, ...args],
  {
    numberOfKeys: 3,
    lua: `
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
for i = 4, #ARGV, 2 do
  redis.call("XADD", KEYS[2], "MAXLEN", "~", ARGV[3], "*", "event", ARGV[i], "data", ARGV[i + 1])
end
redis.call("PEXPIRE", KEYS[2], ARGV[2])
redis.call("PEXPIRE", KEYS[3], ARGV[2])
return 1
`
  }
).withReturnType<number>()

// KEYS: lease, cancel, seen. ARGV: owner, lease (ms).
const renewScript = Redis.script(
  (keys: ReadonlyArray<string>, owner: string, lease: number) => [...keys, owner, lease],
  {
    numberOfKeys: 3,
    lua: `
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return "lost" end
if redis.call("EXISTS", KEYS[2]) == 1 then return "cancelled" end
if redis.call("EXISTS", KEYS[3]) == 0 then return "orphaned" end
redis.call("PEXPIRE", KEYS[1], ARGV[2])
return "held"
`
  }
).withReturnType<Renewal>()

// KEYS: lease. ARGV: owner.
const releaseScript = Redis.script((lease: string, owner: string) => [lease, owner], {
  numberOfKeys: 1,
  lua: `if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("DEL", KEYS[1]) end return 1`
})

type StreamReply = ReadonlyArray<readonly [string, ReadonlyArray<string>]>

// XREAD's reply for one stream: `[[key, entries]]` (RESP2) or `{ key: entries }` (node-redis's map), or null.
type XReadReply = ReadonlyArray<readonly [string, StreamReply]> | Readonly<Record<string, StreamReply>> | null

const streamOf = (reply: XReadReply): StreamReply => {
  if (reply === null) return []
  if (Array.isArray(reply)) return (reply as ReadonlyArray<readonly [string, StreamReply]>)[0]?.[1] ?? []
  return Object.values(reply)[0] ?? []
}

const entriesOf = (reply: StreamReply): Array<Entry> =>
  reply.map(([id, fields]) => {
    const value = (name: string) => fields[fields.indexOf(name) + 1] ?? ""
    return { id, event: value("event"), data: value("data") }
  })

/**
 * The store over the current `Redis` service, keys under `prefix` (default
 * `"steadystream:answer:"`).
 *
 * **Gotchas**
 *
 * - Each waiting `read` holds a connection of `Redis.reserve` (`XREAD
 *   BLOCK`) for the scope it runs in: size the pool (`maxConnections` of
 *   `NodeRedis.layer`) for the readers you expect.
 * - An answer longer than `maxFrames` frames loses its oldest frames: it can
 *   no longer be replayed from the start, nor taken over.
 */
export const make = (
  options: Options & { readonly prefix?: string } = {}
): Effect.Effect<AnswerStore, never, Redis.Redis> =>
  Effect.gen(function* () {
    const redis = yield* Redis.Redis
    const limits = resolve(options)
    const prefix = options.prefix ?? "steadystream:answer:"
    const key = (answer: string, part: string) => `${prefix}{${answer}}:${part}`
    const append = redis.eval(appendScript)
    const renew = redis.eval(renewScript)
    const release = redis.eval(releaseScript)
    const failed = <A, R>(effect: Effect.Effect<A, Redis.RedisError, R>) =>
      Effect.mapError(effect, (error) => new StoreError({ cause: error.cause }))
    const ttl = String(limits.timeToLive)

    const read = (answer: string, cursor: string | undefined, wait: Duration.Duration) =>
      Effect.gen(function* () {
        const from = cursor ?? "0-0"
        if (Duration.isZero(wait)) {
          return entriesOf(yield* redis.send<StreamReply>("XRANGE", key(answer, "events"), `(${from}`, "+"))
        }
        // A blocking read needs a connection of its own: it would hold up every command behind it.
        const connection = yield* redis.reserve
        const reply = yield* connection.send<XReadReply>(
          "XREAD",
          "COUNT",
          "1000",
          "BLOCK",
          String(Math.max(1, Math.round(Duration.toMillis(wait)))),
          "STREAMS",
          key(answer, "events"),
          from
        )
        return entriesOf(streamOf(reply))
      }).pipe(Effect.scoped)

    const store: AnswerStore = {
      shared: true,
      limits,
      create: (answer, request, owner) =>
        failed(
          Effect.all(
            [
              redis.send("SET", key(answer, "request"), request, "PX", ttl),
              redis.send("SET", key(answer, "lease"), owner, "PX", String(limits.lease)),
              redis.send("SET", key(answer, "seen"), "1", "PX", String(limits.orphanTimeout))
            ],
            { discard: true }
          )
        ),
      request: (answer) =>
        failed(
          Effect.map(redis.send<string | null>("GET", key(answer, "request")), (value) => value ?? undefined)
        ),
      append: (answer, owner, frames) =>
        failed(
          Effect.map(
            append(
              [key(answer, "lease"), key(answer, "events"), key(answer, "request")],
              [owner, ttl, String(limits.maxFrames), ...frames.flatMap((frame) => [frame.event, frame.data])]
            ),
            (written) => Number(written) === 1
          )
        ),
      read: (answer, cursor, wait) => failed(read(answer, cursor, wait)),
      acquire: (answer, owner) =>
        failed(
          Effect.map(
            redis.send<string | null>("SET", key(answer, "lease"), owner, "PX", String(limits.lease), "NX"),
            (reply) => reply === "OK"
          )
        ),
      renew: (answer, owner) =>
        failed(
          renew([key(answer, "lease"), key(answer, "cancel"), key(answer, "seen")], owner, limits.lease)
        ),
      release: (answer, owner) => failed(Effect.asVoid(release(key(answer, "lease"), owner))),
      seen: (answer) =>
        failed(
          Effect.asVoid(redis.send("SET", key(answer, "seen"), "1", "PX", String(limits.orphanTimeout)))
        ),
      cancel: (answer) => failed(Effect.asVoid(redis.send("SET", key(answer, "cancel"), "1", "PX", ttl)))
    }
    return store
  })
