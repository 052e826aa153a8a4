/*
 * The hold sweeper: a process of its own beside the workers (the master
 * forks it and respawns it), which about once a second calls
 * payd_hold_sweep (sql/R__payd_hold_sweep.sql). Every instance runs one;
 * the lease in the database lets one of them at a time expire holds.
 */
#ifndef SWEEPER_H
#define SWEEPER_H

#include "config.h"

/* Runs until SIGTERM or SIGINT; returns the process's exit status. */
int sweeper_run(const struct config *cfg);

#endif /* SWEEPER_H */
