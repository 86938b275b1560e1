/* Helpers shared by the provider and enhancer adapters: base64, JSON request bodies, short
 * sanitised error texts, multipart/form-data, URL pieces and the common "download the image at
 * this URL" step. Pure functions: no I/O, no global state. */
#ifndef PP_PROVIDERS_PROVIDER_UTIL_H
#define PP_PROVIDERS_PROVIDER_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "providers/provider.h"
#include "util/buf.h"

/* How much of a provider's own message goes into a client-visible error text. */
#define PU_MSG_MAX 160

/* ---- base64 ---- */

/* Decodes standard or URL-safe base64 into out (appends). Skips whitespace, accepts missing
 * padding and a leading "data:<mime>;base64," prefix. Returns 0, or -1 on bad input/no memory. */
int pu_base64_decode(const char *in, size_t len, struct buf *out);
/* Encodes len bytes as standard base64 with padding into out (appends). Returns 0 or -1. */
int pu_base64_encode(const void *in, size_t len, struct buf *out);

/* ---- text ---- */

/* Copies at most max_chars code points of in (len bytes, need not be NUL-terminated or valid
 * UTF-8) into out: control characters become spaces, runs of spaces collapse, invalid bytes are
 * dropped, "..." marks a cut, and every occurrence of secret (when non-empty) and anything that
 * looks like an API key ("sk-...", "key-...") becomes "[redacted]". */
void pu_sanitize(const char *in, size_t len, const char *secret, size_t max_chars, char *out,
                 size_t outlen);

/* Percent-encodes s as one URL path segment (RFC 3986 unreserved characters stay). Caller frees. */
char *pu_url_segment(const char *s);

/* True when url starts with http:// or https:// and has a host. */
bool pu_url_is_http(const char *url);
/* Copies the host (without port) of an http(s) URL into out. Returns 0 or -1. */
int pu_url_host(const char *url, char *out, size_t outlen);

/* ---- JSON ---- */

/* Parses a response body as JSON. NULL when the body is not JSON. Caller owns the result. */
json_t *pu_json_parse(const struct http_response *r);
/* Sets req to POST url with a compact JSON body of obj and "Content-Type: application/json"
 * and "Accept: application/json" headers. Does not take obj. Returns 0 or -1. */
int pu_json_request(struct http_request *req, const char *url, const json_t *obj);
/* obj[key] as a non-empty string, else NULL. Safe on NULL or non-objects. */
const char *pu_json_str(const json_t *obj, const char *key);

/* ---- errors ---- */

/* The best short human message in a provider error body: error.message, error (string),
 * message/Message, detail (string or FastAPI list), "name: errors[]" (Stability), or a plain-text
 * body. Writes "" when nothing useful is found. Sanitised and redacted with secret. */
void pu_error_message(const struct http_response *r, const char *secret, char *out, size_t outlen);
/* Makes out an ERROR step for a failed (non-2xx or no-response) HTTP exchange:
 * "<label>: HTTP 400: <provider message>" or "<label>: request failed (<transport error>)". */
void pu_fail_http(struct provider_step *out, const struct provider_call *c, const char *label,
                  const struct http_response *r);
/* The same text written into out (for callers without a step, e.g. the enhancers). */
void pu_http_error_text(const struct provider_call *c, const char *label,
                        const struct http_response *r, char *out, size_t outlen);
/* True for 2xx. */
bool pu_status_ok(const struct http_response *r);

/* ---- steps ---- */

/* out becomes ERROR "no API key configured" and true is returned when the model has no key. */
bool pu_missing_key(const struct provider_call *c, struct provider_step *out, const char *label);
/* Decodes base64 image data into an IMAGE step (ERROR on bad data or over the size cap). */
int pu_image_from_base64(const struct provider_call *c, struct provider_step *out,
                         const char *label, const char *b64, size_t len);
/* Copies raw bytes into an IMAGE step (ERROR when over the size cap or clearly not an image). */
int pu_image_from_bytes(const struct provider_call *c, struct provider_step *out, const char *label,
                        const struct http_response *r);
/* Makes out a REQUEST step that downloads url (GET, body_is_image) with state "download".
 * ERROR when the URL is not http(s). */
int pu_step_download(struct provider_step *out, const char *label, const char *url);
/* True when the state says the last request was a download made by pu_step_download. */
bool pu_state_is_download(const char *state);
/* Handles the response to a download: IMAGE on 2xx, else ERROR. */
int pu_on_download(const struct provider_call *c, const struct http_response *r,
                   struct provider_step *out, const char *label);
/* Takes an OpenAI-style images response ({"data":[{"b64_json"|"url"}]}) to IMAGE or download. */
int pu_openai_images_result(const struct provider_call *c, const struct http_response *r,
                            struct provider_step *out, const char *label);
/* Copies a string into a freshly allocated step state. Returns 0 or -1. */
int pu_set_state(struct provider_step *out, const char *state);

/* The API root of a model for a table provider (MODEL_N_BASE_URL else the default), with
 * trailing slashes removed. Returns -1 when the provider needs a base URL and none is set. */
int pu_root(const char *provider, const struct provider_call *c, char *out, size_t outlen);
/* Bedrock's root: MODEL_N_BASE_URL, else AWS_ENDPOINT_URL_BEDROCK_RUNTIME, else
 * https://bedrock-runtime.{AWS_REGION}.amazonaws.com. Returns -1 when there is no region. */
int pu_bedrock_root(const struct provider_call *c, char *out, size_t outlen);

/* Builds a SigV4-signed (service "bedrock") POST {bedrock root}/model/{url-encoded id}/{action}
 * with a JSON body. Returns 0; 1 with err filled when configuration is missing (no region, no
 * AWS credentials); -1 when memory runs out. */
int pu_bedrock_build(const struct provider_call *c, const char *action, const json_t *body,
                     struct http_request *req, char *err, size_t errlen);

/* Builds the Bedrock InvokeModel request for body into out as a REQUEST step, or an ERROR step
 * ("<label>: <reason>") when configuration is missing. Returns 0, or -1 when memory runs out. */
int pu_bedrock_invoke_step(const struct provider_call *c, const char *label, const json_t *body,
                           struct provider_step *out);

/* The image in a JSON string of base64 (e.g. images[0]); a missing or empty value is the ERROR step
 * "<label>: no image in the response". Returns as pu_image_from_base64. */
int pu_image_from_json_b64(const struct provider_call *c, struct provider_step *out,
                           const char *label, const json_t *value);

/* The JSON object of a 2xx answer (caller owns it: json_decref). On a non-2xx or non-JSON answer
 * out becomes the ERROR step and NULL is returned. */
json_t *pu_json_answer(const struct provider_call *c, const struct http_response *r,
                       struct provider_step *out, const char *label);

/* Gemini's reason for a blocked answer (promptFeedback.blockReason, or a safety finishReason of
 * the first candidate), NULL when not blocked. Borrowed from root. */
const char *pu_gemini_block_reason(const json_t *root);

/* ---- multipart/form-data ---- */

struct pu_multipart {
    struct buf body;
    char boundary[72];
};

/* Starts a body with a random boundary. Returns 0 or -1 (no randomness or memory). */
int pu_multipart_init(struct pu_multipart *m);
/* Adds one text field without a filename. -1 when out of memory or the value contains the
 * boundary. */
int pu_multipart_field(struct pu_multipart *m, const char *name, const char *value);
/* Closes the body and moves it into req with its Content-Type header (boundary included). */
int pu_multipart_finish(struct pu_multipart *m, struct http_request *req);
void pu_multipart_free(struct pu_multipart *m);

#endif
