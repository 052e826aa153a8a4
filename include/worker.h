/*
 * A worker: start-up once (database connection, statements, buffers),
 * then the FCGX_Accept_r loop until SIGTERM.
 */
#ifndef WORKER_H
#define WORKER_H

#include "config.h"

/*
 * Serves requests on listen_fd until told to stop, then returns the exit
 * status. ready_fd (or -1) receives one byte once start-up is done.
 */
int worker_run(const struct config *cfg, int listen_fd, int ready_fd);

/*
 * Handles one request on an accepted FastCGI request. Exposed for the
 * benchmark's trivial responder and for tests.
 */
struct FCGX_Request;

#endif /* WORKER_H */
