/* Prompt enhancement adapters. Pure like provider.h: build one HTTP request, read the final
 * response; the caller (the /enhance route) owns the I/O, retries and the deadline.
 *
 * Which model enhances: the slot named by PROMPT_MODEL_INDEX, or a dedicated model built from
 * ENHANCE_PROVIDER / ENHANCE_MODEL / ENHANCE_KEY / ENHANCE_BASE_URL. Either way it must be a chat
 * model: enhancer_select() refuses image-only providers and image model ids (the original sent
 * "dall-e-3" to chat/completions and silently returned the input: §16 item 16).
 *
 *   provider                         enhancer            call
 *   openai, openai_compatible        chat_completions    POST {root}/chat/completions
 *   gemini                           gemini              POST {root}/models/{id}:generateContent
 *   bedrock, bedrock_nova, bedrock_sd  bedrock_converse  POST {root}/model/{id}/converse (SigV4)
 *   demo                             demo                local, deterministic
 *
 * Every enhancer asks for JSON {"short": one sentence, "long": 2-4 sentences} and reads the
 * answer with enhancer_parse_text(), which tolerates code fences and plain prose. */
#ifndef PP_PROVIDERS_ENHANCER_H
#define PP_PROVIDERS_ENHANCER_H

#include <stdbool.h>
#include <stddef.h>

#include "providers/provider.h"

struct enhance_result {
    char short_prompt[1024]; /* one sentence */
    char long_prompt[4096];  /* 2-4 sentences; what `enhanced` carries */
};

struct enhancer_ops {
    const char *name; /* "chat_completions" | "gemini" | "bedrock_converse" | "demo" */
    bool is_local;    /* true: call local(), no HTTP */
    /* Builds the request for c->model and c->prompt (c->state and poll_count are unused).
     * Returns 0; 1 with err filled when configuration is missing (key, base URL, region);
     * -1 when memory runs out. */
    int (*build)(const struct provider_call *c, struct http_request *out, char *err, size_t errlen);
    /* Reads the final response (any status). Returns 0 with out filled, or -1 with a short
     * sanitised err (no key, no raw body). */
    int (*parse)(const struct provider_call *c, const struct http_response *r,
                 struct enhance_result *out, char *err, size_t errlen);
    /* Local enhancers only. Returns 0, or -1 with err. */
    int (*local)(const char *prompt, struct enhance_result *out, char *err, size_t errlen);
};

/* The enhancer for a provider name, NULL when that provider has no chat API. */
const struct enhancer_ops *enhancer_for_provider(const char *provider);
/* The enhancer for a configured model: NULL with a short reason in why when the provider has
 * no chat API or the model id names an image model. */
const struct enhancer_ops *enhancer_select(const struct model_config *m, char *why, size_t whylen);

/* The system prompt every remote enhancer sends. */
const char *enhancer_system_prompt(void);

/* Turns a model's answer into the two variants: JSON {"short","long"} (also short_prompt/
 * long_prompt), optionally inside ``` fences; otherwise prose, where the first sentence is the
 * short variant and the whole text the long one. Fails when either is empty or both are the
 * same. Returns 0, or -1 with err. */
int enhancer_parse_text(const char *text, size_t len, struct enhance_result *out, char *err,
                        size_t errlen);

#endif
