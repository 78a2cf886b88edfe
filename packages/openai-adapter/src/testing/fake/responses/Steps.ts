/**
 * Steps and error bodies of the Responses API: a resume that is refused (the
 * response was not created in background mode) or has expired (no longer
 * stored), and the bodies the server answers with for unknown or
 * non-background responses.
 *
 * @since 0.2.0
 */
import * as Step from "../Step.ts"

/**
 * The 404 body for a response id the server does not know (or no longer
 * keeps).
 *
 * @since 0.2.0
 */
export const responseNotFound = (id: string): Step.ErrorBody => ({
  message: `Response with id '${id}' not found.`,
  type: "invalid_request_error",
  param: null,
  code: null
})

/**
 * The 400 body for streaming again a response that was not created with
 * `background: true, stream: true`.
 *
 * @since 0.2.0
 */
export const notResumableBody: Step.ErrorBody = {
  message: "This response cannot be streamed because it was not created with background=true.",
  type: "invalid_request_error",
  param: null,
  code: null
}

/**
 * The 400 body for cancelling a response that was not created with
 * `background: true`.
 *
 * @since 0.2.0
 */
export const notCancellableBody: Step.ErrorBody = {
  message: "Only responses created with background=true can be cancelled.",
  type: "invalid_request_error",
  param: null,
  code: null
}

/**
 * The 400 body for `background: true` with `store: false`.
 *
 * @since 0.2.0
 */
export const backgroundNeedsStoreBody: Step.ErrorBody = {
  message: "Background sampling requires store=true.",
  type: "invalid_request_error",
  param: "store",
  code: null
}

/**
 * A resume (`GET /v1/responses/{id}?stream=true`) answered 404: the response
 * is no longer stored.
 *
 * @since 0.2.0
 */
export const resumeExpired: Step.HttpError = Step.httpError(404, responseNotFound("resp_expired"))

/**
 * A resume answered 400: the response cannot be streamed again.
 *
 * @since 0.2.0
 */
export const resumeRefused: Step.HttpError = Step.httpError(400, notResumableBody)
