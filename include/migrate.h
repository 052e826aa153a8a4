/*
 * Database migrations: sql/NNN_name.sql applied in order, each recorded in
 * schema_migrations, so running them again changes nothing.
 */
#ifndef MIGRATE_H
#define MIGRATE_H

#include "config.h"

/*
 * Applies every migration of cfg->sql_dir not yet recorded, with the
 * configured database account (which needs DDL rights). Returns 0, or 1
 * after logging the failing file and the server's message.
 */
int migrate_run(const struct config *cfg);

#endif /* MIGRATE_H */
