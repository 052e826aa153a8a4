/*
 * Database migrations: sql/NNN_name.sql applied in order, each recorded in
 * schema_migrations, so running them again changes nothing; then the
 * stored routines sql/R__name.sql (each one CREATE OR REPLACE), applied
 * again whenever their text changes (its SHA-256 is in schema_routines).
 */
#ifndef MIGRATE_H
#define MIGRATE_H

#include "config.h"

/*
 * Applies every migration of cfg->sql_dir not yet recorded, then every
 * routine whose text is not the one recorded, with the configured
 * database account (which needs DDL rights). Returns 0, or 1
 * after logging the failing file and the server's message.
 */
int migrate_run(const struct config *cfg);

#endif /* MIGRATE_H */
