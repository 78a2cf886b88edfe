/**
 * The official `openai` SDK client, configured the SteadyStream way
 * (`maxRetries: 0`), as a service: the adapter's transport, and a handle for
 * benchmarks and pre-flight checks.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import OpenAI from "openai"

/**
 * How to reach OpenAI (or any OpenAI-compatible server).
 *
 * @since 0.1.0
 */
export interface Options {
  readonly apiKey: Redacted.Redacted<string>
  /** Default: the SDK's (`OPENAI_BASE_URL`, else `https://api.openai.com/v1`). */
  readonly baseURL?: string
  readonly organization?: string
  readonly project?: string
  /**
   * The SDK's request timeout: how long to wait for response headers.
   * Default 10 minutes (the SDK's).
   */
  readonly timeout?: Duration.Input
}

/**
 * A configured client.
 *
 * @since 0.1.0
 */
export interface Service {
  readonly client: OpenAI
  /** The key, kept redacted; the error mapper scrubs it from every message. */
  readonly apiKey: Redacted.Redacted<string>
  readonly timeout: Duration.Duration
}

/**
 * The service key.
 *
 * @since 0.1.0
 */
export class OpenAiClient extends Context.Service<OpenAiClient, Service>()(
  "@steadystream/openai-adapter/OpenAiClient"
) {}

const defaultTimeout = Duration.minutes(10)

/**
 * Builds the client.
 *
 * **Gotchas**
 *
 * The SDK is always constructed with `maxRetries: 0`: retries belong to
 * `ResilientChat`, and the SDK's own (2 by default) would multiply them and
 * pointlessly retry `insufficient_quota`.
 *
 * @since 0.1.0
 */
export const make = (options: Options): Service => {
  const timeout = options.timeout === undefined ? defaultTimeout : Duration.fromInputUnsafe(options.timeout)
  const client = new OpenAI({
    apiKey: Redacted.value(options.apiKey),
    maxRetries: 0,
    timeout: Duration.toMillis(timeout),
    ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
    ...(options.organization === undefined ? {} : { organization: options.organization }),
    ...(options.project === undefined ? {} : { project: options.project })
  })
  return { client, apiKey: options.apiKey, timeout }
}

/**
 * A layer providing the client.
 *
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<OpenAiClient> =>
  Layer.sync(OpenAiClient, () => make(options))
