/**
 * The page's icon: a small SVG (a steady wave on the page's accent blue),
 * inlined in the page as a data URL and served at `/favicon.ico` for clients
 * that ask for it anyway, so neither costs a 404.
 */
import { HttpServerResponse } from "effect/http"

/** The icon as SVG text. */
export const svg =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
  '<rect width="32" height="32" rx="7" fill="#2f6fed"/>' +
  '<path d="M5 18c3.5-7 7.5-7 11 0s7.5 7 11 0" fill="none" stroke="#fff" stroke-width="3.5" stroke-linecap="round"/>' +
  "</svg>"

/** The icon as a `data:` URL, for `<link rel="icon">`. */
export const dataUrl = `data:image/svg+xml,${encodeURIComponent(svg)}`

/** The `/favicon.ico` response (SVG, cacheable for a day). */
export const response: HttpServerResponse.HttpServerResponse = HttpServerResponse.text(svg, {
  contentType: "image/svg+xml",
  headers: { "cache-control": "public, max-age=86400" }
})
