/*
 * A worker: start-up once (database connection, statements, buffers),
 * then the FCGX_Accept_r loop until SIGTERM.
 */
#ifndef WORKER_H
#define WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/*
 * Serves requests on listen_fd until told to stop, then returns the exit
 * status. ready_fd (or -1) receives one byte once start-up is done.
 */
int worker_run(const struct config *cfg, int listen_fd, int ready_fd);

/*
 * What a worker runs for each request, in one straight path (router.h):
 * route() reads the request's route and token and returns the kind of
 * batch it may join, or 0 when it runs alone; load() (may be NULL) is the
 * batch step: it serves the n (0 or more) requests of one kind taken
 * together as far as it can (one statement for all), marking ctx->settled
 * those it has answered, and leaves the rest (a batch of one is left);
 * run() then answers each: the settled first, the others in order, each
 * within its deadline. The payd defaults are router_route, router_load
 * and router_run; a program built from the same loop (the benchmark's
 * trivial responder) replaces them before master_run. uses_db = false
 * skips the database at start-up.
 */
struct ctx;
struct worker_app {
	unsigned (*route)(struct ctx *ctx);
	void (*load)(struct ctx *const *ctxs, size_t n);
	void (*run)(struct ctx *ctx);
	/* The route names metrics counts by (router_names); may be NULL. */
	size_t (*names)(const char **out, size_t cap);
	bool uses_db;
};
extern struct worker_app worker_app;

#endif /* WORKER_H */
