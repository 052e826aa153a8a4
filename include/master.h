/*
 * The master process: binds the FastCGI socket, forks the workers, replaces
 * any that die (with back-off), drains them on SIGTERM/SIGINT, replaces
 * them one by one with a re-read configuration on SIGHUP, and reopens the
 * log file on SIGUSR1.
 */
#ifndef MASTER_H
#define MASTER_H

#include "config.h"

/*
 * Runs until SIGTERM or SIGINT and the drain, then returns the exit status
 * (0). config_path (may be NULL) is re-read on SIGHUP; cfg is the
 * configuration already loaded from it.
 */
int master_run(const char *config_path, struct config *cfg);

/*
 * Opens the listening socket for spec: "host:port" or a path (a unix
 * socket, mode 0666: its directory controls access). Returns the fd or calls
 * fatal().
 */
int master_listen(const char *spec);

#endif /* MASTER_H */
