/** The clients the paced benchmark compares, by the short name its processes pass around. */
import * as Clients from "../clients.ts"

export const kinds = {
  raw: (url: string) => Clients.rawSdk(url),
  adapter: Clients.adapter,
  // Deadlines far beyond the default 30 s: the open run holds every stream after its first token for as
  // long as opening 10,000 takes, which on a loaded machine is close to that. A retry would then be
  // measured as overhead (the worker counts them). Deadlines cost nothing per token (one host timer
  // per attempt, re-armed only when it fires early).
  resilient: (url: string) =>
    Clients.resilient(url, {
      timeouts: { firstToken: "10 minutes", idle: "10 minutes", total: "20 minutes" }
    }),
  ai: Clients.aiSdk
} satisfies Record<string, (baseURL: string) => Clients.Client>

export type Kind = keyof typeof kinds

/** Every kind, the raw SDK (the baseline) first. */
export const all: ReadonlyArray<Kind> = ["raw", "adapter", "resilient", "ai"]

export const isKind = (value: string): value is Kind => value in kinds
