/*
 * payd admin: the operator commands (docs/operations.md "Operator
 * commands").
 */
#ifndef ADMIN_H
#define ADMIN_H

#include "config.h"

/*
 * Runs the command of argv[0..argc) (the arguments after "admin") against
 * the database of cfg; prints to stdout, and errors to stderr. Returns the
 * exit status: 0 done, 1 refused (the reason printed), 2 cannot run (bad
 * arguments, no database, a database failure).
 */
int admin_run(const struct config *cfg, int argc, char **argv);

#endif /* ADMIN_H */
