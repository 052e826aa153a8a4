/*
 * A worker: start-up once (database connection, statements, buffers),
 * then the FCGX_Accept_r loop until SIGTERM.
 */
#ifndef WORKER_H
#define WORKER_H

#include <stdbool.h>

#include "config.h"

/*
 * Serves requests on listen_fd until told to stop, then returns the exit
 * status. ready_fd (or -1) receives one byte once start-up is done.
 */
int worker_run(const struct config *cfg, int listen_fd, int ready_fd);

/*
 * What a worker runs for each request: router_dispatch, unless a program
 * built from the same loop (the benchmark's trivial responder) replaces it
 * before master_run. worker_uses_db = false skips the database at start-up.
 */
struct ctx;
extern void (*worker_dispatch)(struct ctx *ctx);
extern bool worker_uses_db;

#endif /* WORKER_H */
