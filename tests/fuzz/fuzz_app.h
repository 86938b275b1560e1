/* A whole app for the fuzz targets, built once per process the way tests/unit/test_router.c builds
 * one: the default configuration (four demo models), a real SQLite store and fs blobs in a
 * mkdtemp directory (removed at exit), no engine, and a fake start_job. One job is created up
 * front and given a finished image, so the status, gallery, zip and file routes have something to
 * serve: fuzz_app_job_id() is its id. */
#ifndef PP_FUZZ_APP_H
#define PP_FUZZ_APP_H

#include <stddef.h>

#include "app/app.h"

/* The app, built on the first call; aborts when it cannot be built (the fuzzer is useless then). */
struct app *fuzz_app(void);
const char *fuzz_app_job_id(void);

/* Runs a response through what a front door does after router_handle (one step of a stream;
 * a deferred answer is dropped), then clears it. */
void fuzz_finish_response(struct response *resp);

#endif
