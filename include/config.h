/*
 * Configuration: one "key = value" file plus PAYD_<KEY> environment
 * overrides. Every key, with its default, is listed in README.md.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "log.h"

/*
 * The default listen: the systemd unit's RuntimeDirectory. A unix socket
 * is 0660, for nginx in the service's group; a TCP port would be open to
 * every local user.
 */
#define CONFIG_LISTEN_DEFAULT "/run/payd/payd.sock"

/*
 * One database node of db_host: a host name or address and its port, or a
 * unix socket path (port 0).
 */
struct config_db_node {
	char host[CONFIG_VALUE_SIZE_MAX];
	unsigned port; /* 0: host is a unix socket path */
};

struct config {
	char listen[CONFIG_VALUE_SIZE_MAX];   /* host:port or a socket path */
	int workers;                          /* 0: 2 per CPU (bounds.h) */
	int drain_s;                          /* SIGTERM grace period */
	char db_socket[CONFIG_PATH_SIZE_MAX]; /* unix socket, or "" */
	/* The preferred node, then its fallbacks: "host[:port], ..." */
	char db_host[CONFIG_VALUE_SIZE_MAX];
	int db_port; /* of an entry of db_host without its own */
	/* db_socket, or db_host's entries, as config_check parsed them. */
	struct config_db_node db_nodes[DB_HOST_COUNT_MAX];
	int db_node_count;
	char db_name[CONFIG_VALUE_SIZE_MAX];
	char db_user[CONFIG_VALUE_SIZE_MAX];
	char db_password[CONFIG_VALUE_SIZE_MAX]; /* secret */
	int db_connect_timeout_s;
	int db_rw_timeout_s;
	int db_lock_wait_timeout_s;
	int request_deadline_s; /* from nginx's REQUEST_START: 503 after */
	int db_sync_wait; /* wsrep_sync_wait of a session (Galera), 0: unset */
	char jwt_secret[TOKEN_SECRET_LEN_MAX + 1]; /* secret */
	size_t jwt_secret_len;
	int token_ttl_s;
	bool dev_mode; /* no jwt_secret needed by migrate, audit, check */
	int64_t fee_fixed_minor;
	int fee_bps;
	int idempotency_ttl_s;
	enum log_level log_level;
	char log_file[CONFIG_PATH_SIZE_MAX];
	int slow_request_ms;
	char sql_dir[CONFIG_PATH_SIZE_MAX];
	int migrate_lock_wait_s; /* how long migrate waits for another */
};

/* Fills cfg with the documented defaults. */
void config_defaults(struct config *cfg);

/*
 * Reads path (skipped when NULL), then the PAYD_* environment, then checks
 * the result. Returns 0, or -1 after writing a reason (never a secret) into
 * err. cfg is left complete either way; on failure do not use it.
 */
int config_load(
    struct config *cfg, const char *path, char *err, size_t err_size);

/*
 * What serve (and its reload) needs beyond config_load: a JWT secret of
 * at least TOKEN_SECRET_LEN_MIN bytes, dev_mode or not. Returns 0, or -1
 * with a reason in err.
 */
int config_check_serve(const struct config *cfg, char *err, size_t err_size);

/* Logs the configuration without its secrets. */
void config_log(const struct config *cfg);

/* Wipes the secrets of cfg. */
void config_wipe(struct config *cfg);

#endif /* CONFIG_H */
