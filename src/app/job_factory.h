/* Builds a new job (id, prompt, one pending result per model, deadlines) for /generate and the
 * terminal `generate` command. */
#ifndef PP_APP_JOB_FACTORY_H
#define PP_APP_JOB_FACTORY_H

#include "app/config.h"
#include "store/job.h"

/* Recovery after a crash may mark a result interrupted once this long past its model deadline. */
#define DEADLINE_GRACE_MS (30LL * 1000)

/* Fills job (caller owns it: job_clear). Returns 0, or -1 when memory or randomness fails. */
int job_build(const struct config *cfg, const char *prompt,
              const struct model_config *const *models, int n, struct job *job);

#endif
