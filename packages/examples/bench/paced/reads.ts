/**
 * Counts the reads of every TCP socket in this process, to show whether the
 * tokens of a paced run arrived one per packet (≈ 1 read per token) or in
 * batches. Costs one increment per read, the same for every client.
 */
import * as Net from "node:net"

let count = 0

const push = Net.Socket.prototype.push
Net.Socket.prototype.push = function (this: Net.Socket, ...args: Parameters<typeof push>) {
  if (args[0] !== null) count++
  return push.apply(this, args)
}

/** Reads since the process started. */
export const reads = (): number => count
