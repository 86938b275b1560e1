/* Error bodies of the HTTP contract: {"error": CODE, "message", "details"?, ...} with the
 * original's codes and texts where they exist (DESIGN §4). Each fills resp completely. */
#ifndef PP_APP_ERRORS_H
#define PP_APP_ERRORS_H

#include "app/http_types.h"

void error_invalid_json(struct response *resp, const char *why);
void error_prompt_required(struct response *resp);
void error_prompt_not_string(struct response *resp);
void error_prompt_too_long(struct response *resp, int max_length);
void error_inappropriate(struct response *resp);
void error_job_not_found(struct response *resp, const char *job_id);
/* 429 with retryAfter in the body and a Retry-After header (true wait, seconds). */
void error_rate_limited(struct response *resp, long retry_after_s);
void error_payload_too_large(struct response *resp, size_t max_bytes);
void error_unknown_model(struct response *resp, const char *model);
void error_no_models(struct response *resp);
/* 503 with Retry-After: storage or another dependency is down. */
void error_unavailable(struct response *resp, long retry_after_s);
void error_internal(struct response *resp);
void error_not_found_route(struct response *resp, const char *path, const char *method);
void error_method_not_allowed(struct response *resp, const char *allow);
/* Generic: 4xx/5xx with a code and message (and optional details). */
void error_simple(struct response *resp, int status, const char *code, const char *message,
                  const char *details);

#endif
