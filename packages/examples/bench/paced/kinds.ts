/** The clients the paced benchmark compares, by the short name its processes pass around. */
import * as Clients from "../clients.ts"

export const kinds = {
  raw: (url: string) => Clients.rawSdk(url),
  adapter: Clients.adapter,
  resilient: (url: string) => Clients.resilient(url),
  ai: Clients.aiSdk
} satisfies Record<string, (baseURL: string) => Clients.Client>

export type Kind = keyof typeof kinds

/** Every kind, the raw SDK (the baseline) first. */
export const all: ReadonlyArray<Kind> = ["raw", "adapter", "resilient", "ai"]

export const isKind = (value: string): value is Kind => value in kinds
