/*
 * Configuration: parse "key = value" lines, apply PAYD_* overrides, check.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"

enum config_type {
	CONFIG_STR,    /* a string into a char array */
	CONFIG_INT,    /* an int within [min, max] */
	CONFIG_I64,    /* an int64_t within [min, max] */
	CONFIG_BOOL,   /* 0/1, true/false, yes/no */
	CONFIG_LEVEL,  /* a log level name */
	CONFIG_SECRET, /* the JWT secret: text, or @path to read it from */
	CONFIG_TYPE__MAX
};

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;
	size_t size;
	long long min, max;
};

#define CK_STR(n, f)                                                           \
	{                                                                      \
		n, CONFIG_STR, offsetof(struct config, f),                     \
		    sizeof(((struct config *)0)->f), 0, 0                      \
	}
#define CK_INT(n, f, lo, hi)                                                   \
	{                                                                      \
		n, CONFIG_INT, offsetof(struct config, f), sizeof(int), lo, hi \
	}

static const struct config_key config_keys[] = {
    CK_STR("listen", listen),
    CK_INT("workers", workers, 0, WORKER_COUNT_MAX),
    CK_INT("drain_timeout_s", drain_s, 1, 600),
    CK_STR("db_socket", db_socket),
    CK_STR("db_host", db_host),
    CK_INT("db_port", db_port, 1, 65535),
    CK_STR("db_name", db_name),
    CK_STR("db_user", db_user),
    CK_STR("db_password", db_password),
    CK_INT("db_connect_timeout_s", db_connect_timeout_s, 1, 60),
    CK_INT("db_rw_timeout_s", db_rw_timeout_s, 1, 60),
    CK_INT("db_lock_wait_timeout_s", db_lock_wait_timeout_s, 1, 60),
    CK_INT("request_deadline_s", request_deadline_s, 1, 3600),
    CK_INT("db_sync_wait", db_sync_wait, 0, 15),
    {"jwt_secret", CONFIG_SECRET, offsetof(struct config, jwt_secret),
        sizeof(((struct config *)0)->jwt_secret), 0, 0},
    CK_INT("token_ttl_s", token_ttl_s, 1, TOKEN_TTL_S_MAX),
    {"dev_mode", CONFIG_BOOL, offsetof(struct config, dev_mode), sizeof(bool),
        0, 1},
    {"fee_fixed_minor", CONFIG_I64, offsetof(struct config, fee_fixed_minor),
        sizeof(int64_t), 0, MONEY_AMOUNT_MAX_MINOR},
    CK_INT("fee_bps", fee_bps, 0, MONEY_BPS_MAX),
    CK_INT("idempotency_ttl_s", idempotency_ttl_s, 86400, 86400 * 365),
    {"log_level", CONFIG_LEVEL, offsetof(struct config, log_level),
        sizeof(enum log_level), 0, 0},
    CK_STR("log_file", log_file),
    CK_INT("slow_request_ms", slow_request_ms, 1, 3600000),
    CK_STR("sql_dir", sql_dir),
    CK_INT("migrate_lock_wait_s", migrate_lock_wait_s, 1, 3600),
};

static int config_set(struct config *cfg, const struct config_key *key,
    const char *value, char *err, size_t err_size);
static int config_read_file(
    struct config *cfg, const char *path, char *err, size_t err_size);
static int config_read_env(struct config *cfg, char *err, size_t err_size);
static int config_check(struct config *cfg, char *err, size_t err_size);
static int config_db_nodes(struct config *cfg, char *err, size_t err_size);
static const struct config_key *config_find(const char *name);
static char *config_trim(char *s);

void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	/* A unix socket, which only nginx's group reaches (master.c). */
	(void)snprintf(
	    cfg->listen, sizeof(cfg->listen), "%s", CONFIG_LISTEN_DEFAULT);
	cfg->workers = 0;
	cfg->drain_s = WORKER_DRAIN_S_DEFAULT;
	(void)snprintf(cfg->db_host, sizeof(cfg->db_host), "127.0.0.1");
	cfg->db_port = 3306;
	(void)snprintf(cfg->db_name, sizeof(cfg->db_name), "payd");
	(void)snprintf(cfg->db_user, sizeof(cfg->db_user), "payd");
	cfg->db_connect_timeout_s = 2;
	cfg->db_rw_timeout_s = 5;
	cfg->db_lock_wait_timeout_s = 1;
	cfg->request_deadline_s = REQUEST_DEADLINE_S_DEFAULT;
	cfg->token_ttl_s = TOKEN_TTL_S_DEFAULT;
	cfg->fee_fixed_minor = 75;
	cfg->fee_bps = 0;
	cfg->idempotency_ttl_s = 86400;
	cfg->log_level = LOG_INFO;
	cfg->slow_request_ms = 1000;
	(void)snprintf(cfg->sql_dir, sizeof(cfg->sql_dir), "sql");
	cfg->migrate_lock_wait_s = MIGRATE_LOCK_WAIT_S_DEFAULT;
}

static const struct config_key *
config_find(const char *name)
{
	for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]);
	     i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

static char *
config_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/*
 * The secret is given inline, or as "@/path" to a file that holds it (its
 * trailing newlines dropped). One longer than TOKEN_SECRET_LEN_MAX is
 * refused, never cut short.
 */
static int
config_set_secret(
    struct config *cfg, const char *value, char *err, size_t err_size)
{
	/* Room for one byte too many after the newlines are dropped. */
	char buf[TOKEN_SECRET_LEN_MAX + CONFIG_SECRET_FILE_SLACK];
	FILE *fp;
	size_t n;

	if (value[0] != '@') {
		n = strlen(value);
		if (n > TOKEN_SECRET_LEN_MAX) {
			(void)snprintf(err, err_size, "jwt_secret: too long");
			return -1;
		}
		memcpy(cfg->jwt_secret, value, n + 1);
		cfg->jwt_secret_len = n;
		return 0;
	}
	fp = fopen(value + 1, "re");
	if (fp == NULL) {
		(void)snprintf(err, err_size, "jwt_secret: %s: %s", value + 1,
		    strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), fp);
	(void)fclose(fp);
	if (n == sizeof(buf)) {
		explicit_bzero(buf, sizeof(buf));
		(void)snprintf(err, err_size,
		    "jwt_secret: %s: longer than %d bytes", value + 1,
		    TOKEN_SECRET_LEN_MAX);
		return -1;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n > TOKEN_SECRET_LEN_MAX) {
		explicit_bzero(buf, sizeof(buf));
		(void)snprintf(err, err_size,
		    "jwt_secret: %s: longer than %d bytes", value + 1,
		    TOKEN_SECRET_LEN_MAX);
		return -1;
	}
	memcpy(cfg->jwt_secret, buf, n);
	explicit_bzero(buf, sizeof(buf));
	cfg->jwt_secret[n] = '\0';
	cfg->jwt_secret_len = n;
	return 0;
}

static int
config_set(struct config *cfg, const struct config_key *key, const char *value,
    char *err, size_t err_size)
{
	char *field = (char *)cfg + key->offset;
	long long num;

	switch (key->type) {
	case CONFIG_STR:
		if (util_copy(field, key->size, value) != 0) {
			(void)snprintf(
			    err, err_size, "%s: too long", key->name);
			return -1;
		}
		return 0;
	case CONFIG_INT:
	case CONFIG_I64:
		if (util_parse_ll(value, key->min, key->max, &num) != 0) {
			(void)snprintf(err, err_size,
			    "%s: not a number in "
			    "[%lld, %lld]",
			    key->name, key->min, key->max);
			return -1;
		}
		if (key->type == CONFIG_INT)
			*(int *)(void *)field = (int)num;
		else
			*(int64_t *)(void *)field = (int64_t)num;
		return 0;
	case CONFIG_BOOL:
		if (strcmp(value, "1") == 0 || strcasecmp(value, "true") == 0 ||
		    strcasecmp(value, "yes") == 0)
			*(bool *)(void *)field = true;
		else if (strcmp(value, "0") == 0 ||
		         strcasecmp(value, "false") == 0 ||
		         strcasecmp(value, "no") == 0)
			*(bool *)(void *)field = false;
		else {
			(void)snprintf(
			    err, err_size, "%s: not a boolean", key->name);
			return -1;
		}
		return 0;
	case CONFIG_LEVEL:
		if (!log_level_parse(value, (enum log_level *)(void *)field)) {
			(void)snprintf(err, err_size,
			    "%s: one of error, warn, "
			    "info, debug",
			    key->name);
			return -1;
		}
		return 0;
	case CONFIG_SECRET:
		return config_set_secret(cfg, value, err, err_size);
	case CONFIG_TYPE__MAX:
		break;
	}
	abort();
}

static int
config_read_file(
    struct config *cfg, const char *path, char *err, size_t err_size)
{
	char line[CONFIG_LINE_SIZE_MAX];
	int lineno = 0, rc = 0;
	FILE *fp;

	fp = fopen(path, "re");
	if (fp == NULL) {
		(void)snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), fp) != NULL) {
		const struct config_key *key;
		char *eq, *name, *value;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			(void)snprintf(err, err_size, "%s:%d: line too long",
			    path, lineno);
			rc = -1;
			break;
		}
		name = config_trim(line);
		if (name[0] == '\0' || name[0] == '#')
			continue;
		eq = strchr(name, '=');
		if (eq == NULL) {
			(void)snprintf(err, err_size,
			    "%s:%d: expected "
			    "key = value",
			    path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		name = config_trim(name);
		value = config_trim(eq + 1);
		key = config_find(name);
		if (key == NULL) {
			(void)snprintf(err, err_size, "%s:%d: unknown key %s",
			    path, lineno, name);
			rc = -1;
			break;
		}
		rc = config_set(cfg, key, value, err, err_size);
	}
	explicit_bzero(line, sizeof(line));
	(void)fclose(fp);
	return rc;
}

static int
config_read_env(struct config *cfg, char *err, size_t err_size)
{
	char env[64];

	for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]);
	     i++) {
		size_t j = 0;
		int n =
		    snprintf(env, sizeof(env), "PAYD_%s", config_keys[i].name);
		const char *value;

		if (n < 0 || (size_t)n >= sizeof(env))
			abort();
		for (j = 5; env[j] != '\0'; j++)
			env[j] = (char)toupper((unsigned char)env[j]);
		value = getenv(env);
		if (value != NULL &&
		    config_set(cfg, &config_keys[i], value, err, err_size) != 0)
			return -1;
	}
	return 0;
}

/*
 * One entry of db_host into node: "host", "host:port", "[v6]:port" or a
 * socket path ("/..."); a port of its own, or db_port. Returns 0, or -1
 * with a reason in err.
 */
static int
config_db_node(struct config *cfg, char *entry, struct config_db_node *node,
    char *err, size_t err_size)
{
	char *host = entry, *colon;
	long long port = cfg->db_port;

	if (entry[0] == '/') {
		node->port = 0;
		return util_copy(node->host, sizeof(node->host), entry);
	}
	if (entry[0] == '[') {
		char *close = strchr(entry, ']');

		if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
			(void)snprintf(err, err_size,
			    "db_host: \"%.64s\": expected [address]:port",
			    entry);
			return -1;
		}
		host = entry + 1;
		*close = '\0';
		colon = close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = strchr(entry, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			(void)snprintf(err, err_size,
			    "db_host: \"%.64s\": an IPv6 address goes in "
			    "brackets: [address]:port",
			    entry);
			return -1;
		}
	}
	if (colon != NULL) {
		*colon = '\0';
		if (util_parse_ll(colon + 1, 1, 65535, &port) != 0) {
			(void)snprintf(err, err_size,
			    "db_host: \"%.64s\": port not a number in "
			    "[1, 65535]",
			    host);
			return -1;
		}
	}
	if (host[0] == '\0' || strpbrk(host, " \t") != NULL) {
		(void)snprintf(err, err_size,
		    "db_host: \"%.64s\": not a host name or address", host);
		return -1;
	}
	node->port = (unsigned)port;
	return util_copy(node->host, sizeof(node->host), host);
}

/*
 * The nodes to connect to, in order: db_socket alone when set, else every
 * entry of db_host (comma-separated, at most DB_HOST_COUNT_MAX). A connect
 * may try each for db_connect_timeout_s: together they must end before
 * the request's deadline.
 */
static int
config_db_nodes(struct config *cfg, char *err, size_t err_size)
{
	char list[sizeof(cfg->db_host)];
	char *save = NULL, *entry;
	int n = 0;

	if (cfg->db_socket[0] != '\0') {
		_Static_assert(
		    sizeof(cfg->db_socket) <= sizeof(cfg->db_nodes[0].host),
		    "db_socket fits a node");
		cfg->db_nodes[0].port = 0;
		memcpy(cfg->db_nodes[0].host, cfg->db_socket,
		    sizeof(cfg->db_socket));
		cfg->db_node_count = 1;
		return 0;
	}
	memcpy(list, cfg->db_host, sizeof(list));
	/* strsep, not strtok: an empty entry ("a,,b", "a,") is seen. */
	for (save = list; (entry = strsep(&save, ",")) != NULL;) {
		entry = config_trim(entry);
		if (entry[0] == '\0') {
			(void)snprintf(
			    err, err_size, "db_host: an empty entry");
			return -1;
		}
		if (n == DB_HOST_COUNT_MAX) {
			(void)snprintf(err, err_size,
			    "db_host: more than %d nodes", DB_HOST_COUNT_MAX);
			return -1;
		}
		if (config_db_node(
		        cfg, entry, &cfg->db_nodes[n], err, err_size) != 0)
			return -1;
		n++;
	}
	cfg->db_node_count = n;
	if ((long long)n * cfg->db_connect_timeout_s >=
	    cfg->request_deadline_s) {
		(void)snprintf(err, err_size,
		    "db_host: %d nodes x db_connect_timeout_s must be below "
		    "request_deadline_s",
		    n);
		return -1;
	}
	return 0;
}

static int
config_check(struct config *cfg, char *err, size_t err_size)
{
	if (cfg->workers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		if (n < 1)
			n = 1;
		n *= WORKER_PER_CPU_DEFAULT;
		cfg->workers =
		    n <= WORKER_COUNT_MAX ? (int)n : WORKER_COUNT_MAX;
	}
	/*
	 * Every lock wait must end (1205, which the ledger retries) before
	 * the client's read timeout, or it surfaces as a lost connection
	 * (2013, a 503). A transfer's CALL can wait DB_CALL_LOCK_WAITS_MAX
	 * times in its one round trip, so all of those waits must fit in
	 * the read timeout: a CALL that commits after the client gave up
	 * would answer 503 for a transfer that happened.
	 */
	if (cfg->db_lock_wait_timeout_s * DB_CALL_LOCK_WAITS_MAX >=
	    cfg->db_rw_timeout_s) {
		(void)snprintf(err, err_size,
		    "db_lock_wait_timeout_s x %d must be below db_rw_timeout_s",
		    DB_CALL_LOCK_WAITS_MAX);
		return -1;
	}
	/* At least one CALL with all its lock waits fits a request's time. */
	if (cfg->db_lock_wait_timeout_s * DB_CALL_LOCK_WAITS_MAX >=
	    cfg->request_deadline_s) {
		(void)snprintf(err, err_size,
		    "db_lock_wait_timeout_s x %d must be below "
		    "request_deadline_s",
		    DB_CALL_LOCK_WAITS_MAX);
		return -1;
	}
	if (cfg->listen[0] == '\0') {
		(void)snprintf(err, err_size, "listen: empty");
		return -1;
	}
	if (config_db_nodes(cfg, err, err_size) != 0)
		return -1;
	/*
	 * A secret too short to be one is refused, dev_mode or not (no
	 * public stand-in); dev_mode allows none at all for the commands
	 * that sign nothing (config_check_serve refuses it to serve).
	 */
	if (cfg->jwt_secret_len > 0 &&
	    cfg->jwt_secret_len < TOKEN_SECRET_LEN_MIN) {
		(void)snprintf(err, err_size, "jwt_secret: at least %d bytes",
		    TOKEN_SECRET_LEN_MIN);
		return -1;
	}
	if (cfg->jwt_secret_len == 0 && !cfg->dev_mode) {
		(void)snprintf(err, err_size,
		    "jwt_secret: required, at least %d bytes",
		    TOKEN_SECRET_LEN_MIN);
		return -1;
	}
	return 0;
}

int
config_check_serve(const struct config *cfg, char *err, size_t err_size)
{
	if (cfg->jwt_secret_len < TOKEN_SECRET_LEN_MIN) {
		(void)snprintf(err, err_size,
		    "jwt_secret: serve needs one of at least %d bytes, "
		    "dev_mode or not",
		    TOKEN_SECRET_LEN_MIN);
		return -1;
	}
	return 0;
}

int
config_load(struct config *cfg, const char *path, char *err, size_t err_size)
{
	err[0] = '\0';
	if (path != NULL && config_read_file(cfg, path, err, err_size) != 0)
		return -1;
	if (config_read_env(cfg, err, err_size) != 0)
		return -1;
	return config_check(cfg, err, err_size);
}

void
config_log(const struct config *cfg)
{
	log_event(LOG_INFO, "config",
	    "listen=%s workers=%d db=%s db_name=%s "
	    "db_user=%s token_ttl_s=%d fee_fixed_minor=%lld fee_bps=%d "
	    "dev_mode=%d log_level=%s",
	    cfg->listen, cfg->workers,
	    cfg->db_socket[0] != '\0' ? cfg->db_socket : cfg->db_host,
	    cfg->db_name, cfg->db_user, cfg->token_ttl_s,
	    (long long)cfg->fee_fixed_minor, cfg->fee_bps, cfg->dev_mode,
	    log_level_name(cfg->log_level));
}

void
config_wipe(struct config *cfg)
{
	explicit_bzero(cfg->jwt_secret, sizeof(cfg->jwt_secret));
	explicit_bzero(cfg->db_password, sizeof(cfg->db_password));
	cfg->jwt_secret_len = 0;
}
