/*
 * Goal: the configuration file and environment are parsed strictly, and the
 * JWT secret is required outside development mode.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

Suite *config_suite(void);

static char *
write_tmp(const char *text)
{
	static char path[64];
	int fd;

	(void)snprintf(path, sizeof(path), "/tmp/payd-cfg-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

START_TEST(test_config_load__file_values__applied)
{
	struct config c;
	char err[256];
	char *p = write_tmp("# comment\nworkers = 3\n"
	                    "jwt_secret = 0123456789abcdef0123456789abcdef\n"
	                    "fee_bps = 25\n");

	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, err, sizeof(err)), 0);
	ck_assert_int_eq(c.workers, 3);
	ck_assert_int_eq(c.fee_bps, 25);
	ck_assert_int_eq(c.fee_fixed_minor, 75);
	ck_assert_uint_eq(c.jwt_secret_len, 32);
	unlink(p);
}
END_TEST

START_TEST(test_config_load__short_secret__rejected)
{
	struct config c;
	char err[256];
	char *p = write_tmp("jwt_secret = 0123456789abcdef0123456789abcde\n");

	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "jwt_secret"));
	/* The error never shows the secret itself. */
	ck_assert_ptr_null(strstr(err, "0123456789"));
	unlink(p);
}
END_TEST

START_TEST(test_config_load__unknown_key_and_bad_number__rejected)
{
	struct config c;
	char err[256];
	char *p = write_tmp("dev_mode = 1\nwrokers = 3\n");

	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, err, sizeof(err)), -1);
	unlink(p);
	p = write_tmp("dev_mode = 1\nworkers = 3x\n");
	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, err, sizeof(err)), -1);
	unlink(p);
	p = write_tmp("dev_mode = 1\nworkers = 257\n");
	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, err, sizeof(err)), -1);
	unlink(p);
}
END_TEST

/*
 * Loads text with a good secret: config_load() must return rc, and on a
 * refusal say why, naming the key named.
 */
static void
load_case(const char *text, int rc, const char *named)
{
	struct config c;
	char err[256] = "", all[256];
	char *p;

	(void)snprintf(all, sizeof(all),
	    "%sjwt_secret = 0123456789abcdef0123456789abcdef\n", text);
	p = write_tmp(all);
	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, err, sizeof(err)), rc);
	if (rc != 0)
		ck_assert_msg(strstr(err, named) != NULL, "%s: %s", text, err);
	unlink(p);
}

/*
 * A transfer's CALL can wait on DB_CALL_LOCK_WAITS_MAX (4) row locks in
 * one round trip: all of them must fit in the read timeout.
 */
START_TEST(test_config_load__lock_wait_times_4_below_rw__paired)
{
	static const struct {
		const char *text;
		int rc;
	} cases[] = {
	    {"db_rw_timeout_s = 5\ndb_lock_wait_timeout_s = 1\n", 0},
	    {"db_rw_timeout_s = 4\ndb_lock_wait_timeout_s = 1\n", -1},
	    {"db_rw_timeout_s = 9\ndb_lock_wait_timeout_s = 2\n", 0},
	    {"db_rw_timeout_s = 8\ndb_lock_wait_timeout_s = 2\n", -1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		load_case(cases[i].text, cases[i].rc, "db_lock_wait_timeout_s");
}
END_TEST

/*
 * A request's deadline must leave time for one CALL with all its lock
 * waits, or no movement could ever start.
 */
START_TEST(test_config_load__lock_waits_below_request_deadline__paired)
{
	static const struct {
		const char *text;
		int rc;
	} cases[] = {
	    {"", 0},
	    {"request_deadline_s = 5\n", 0},
	    {"request_deadline_s = 4\n", -1},
	    {"db_rw_timeout_s = 9\ndb_lock_wait_timeout_s = 2\n"
	     "request_deadline_s = 8\n",
	        -1},
	    {"request_deadline_s = 0\n", -1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		load_case(cases[i].text, cases[i].rc, "request_deadline_s");
}
END_TEST

START_TEST(test_config_load__env_overrides_file)
{
	struct config c;
	char err[256];
	char *p = write_tmp("dev_mode = 1\nworkers = 3\n");

	setenv("PAYD_WORKERS", "5", 1);
	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, err, sizeof(err)), 0);
	ck_assert_int_eq(c.workers, 5);
	unsetenv("PAYD_WORKERS");
	unlink(p);
}
END_TEST

/*
 * dev_mode never stands in a public secret: a short one is refused, and
 * without one only the commands that sign nothing may run.
 */
START_TEST(test_config_dev_mode__short_or_no_secret__serve_refused)
{
	struct config c;
	char err[256];
	char *p = write_tmp("dev_mode = 1\n"
	                    "jwt_secret = 0123456789abcdef0123456789abcde\n");

	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "at least 32 bytes"));
	unlink(p);
	p = write_tmp("dev_mode = 1\n");
	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.jwt_secret_len, 0);
	ck_assert_int_eq(config_check_serve(&c, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "serve needs"));
	unlink(p);
	p = write_tmp("dev_mode = 1\n"
	              "jwt_secret = 0123456789abcdef0123456789abcdef\n");
	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, err, sizeof(err)), 0);
	ck_assert_int_eq(config_check_serve(&c, err, sizeof(err)), 0);
	unlink(p);
}
END_TEST

/* A config naming a secret file of len bytes of 'k', then tail. */
static char *
secret_file_config(size_t len, const char *tail)
{
	static char conf[128];
	char *key = malloc(len + 8);
	char *p;

	ck_assert_ptr_nonnull(key);
	memset(key, 'k', len);
	(void)snprintf(key + len, 8, "%s", tail);
	p = write_tmp(key);
	free(key);
	(void)snprintf(conf, sizeof(conf), "jwt_secret = @%s\n", p);
	return conf;
}

/* A secret file one byte longer than the buffer is refused, not cut. */
START_TEST(test_config_secret_file__longer_than_max__refused_not_cut)
{
	struct config c;
	char err[256];
	char *conf = secret_file_config(TOKEN_SECRET_LEN_MAX, "\n");
	char *path = strdup(conf + strlen("jwt_secret = @"));
	char *p;

	path[strlen(path) - 1] = '\0';
	p = write_tmp(conf);
	config_defaults(&c);
	ck_assert_int_eq(config_load(&c, p, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.jwt_secret_len, TOKEN_SECRET_LEN_MAX);
	unlink(p);
	unlink(path);
	free(path);
	for (size_t extra = 1; extra <= 3; extra++) {
		conf = secret_file_config(TOKEN_SECRET_LEN_MAX + extra, "\n");
		path = strdup(conf + strlen("jwt_secret = @"));
		path[strlen(path) - 1] = '\0';
		p = write_tmp(conf);
		config_defaults(&c);
		ck_assert_int_eq(config_load(&c, p, err, sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, "longer than 512 bytes"));
		unlink(p);
		unlink(path);
		free(path);
	}
}
END_TEST

/* The config of text with a good secret, which must load. */
static void
load_ok(const char *text, struct config *c)
{
	char err[256] = "", all[512];
	char *p;

	(void)snprintf(all, sizeof(all),
	    "%sjwt_secret = 0123456789abcdef0123456789abcdef\n", text);
	p = write_tmp(all);
	config_defaults(c);
	ck_assert_msg(
	    config_load(c, p, err, sizeof(err)) == 0, "%s: %s", text, err);
	unlink(p);
}

/*
 * db_host: the preferred node then its fallbacks, in order, each with its
 * own port or db_port (set before or after it); a socket path; db_socket
 * alone when set.
 */
START_TEST(test_config_db_host__list__nodes_in_order)
{
	struct config c;

	load_ok("db_host = 10.0.1.11, db2.example:3307 ,[fd00::3]:3308,"
	        "[fd00::4], /run/mysqld/mysqld.sock\ndb_port = 3310\n"
	        "request_deadline_s = 20\n",
	    &c);
	ck_assert_int_eq(c.db_node_count, 5);
	ck_assert_str_eq(c.db_nodes[0].host, "10.0.1.11");
	ck_assert_uint_eq(c.db_nodes[0].port, 3310);
	ck_assert_str_eq(c.db_nodes[1].host, "db2.example");
	ck_assert_uint_eq(c.db_nodes[1].port, 3307);
	ck_assert_str_eq(c.db_nodes[2].host, "fd00::3");
	ck_assert_uint_eq(c.db_nodes[2].port, 3308);
	ck_assert_str_eq(c.db_nodes[3].host, "fd00::4");
	ck_assert_uint_eq(c.db_nodes[3].port, 3310);
	ck_assert_str_eq(c.db_nodes[4].host, "/run/mysqld/mysqld.sock");
	ck_assert_uint_eq(c.db_nodes[4].port, 0);
	/* The default: one node, 127.0.0.1:3306. */
	load_ok("", &c);
	ck_assert_int_eq(c.db_node_count, 1);
	ck_assert_str_eq(c.db_nodes[0].host, "127.0.0.1");
	ck_assert_uint_eq(c.db_nodes[0].port, 3306);
	/* db_socket wins over db_host, as it always did. */
	load_ok("db_host = a, b\ndb_socket = /tmp/m.sock\n", &c);
	ck_assert_int_eq(c.db_node_count, 1);
	ck_assert_str_eq(c.db_nodes[0].host, "/tmp/m.sock");
	ck_assert_uint_eq(c.db_nodes[0].port, 0);
}
END_TEST

/* Every bad list is refused at load, naming db_host and what is wrong. */
START_TEST(test_config_db_host__bad_or_too_long__refused_with_reason)
{
	static const struct {
		const char *text;
		const char *why;
	} cases[] = {
	    {"db_host =\n", "empty entry"},
	    {"db_host = a,,b\n", "empty entry"},
	    {"db_host = a, b,\n", "empty entry"},
	    {"db_host = a:0\n", "port"},
	    {"db_host = a:65536\n", "port"},
	    {"db_host = a:33x\n", "port"},
	    {"db_host = a:\n", "port"},
	    {"db_host = :3306\n", "not a host"},
	    {"db_host = a b\n", "not a host"},
	    {"db_host = fd00::1\n", "brackets"},
	    {"db_host = [fd00::1\n", "[address]:port"},
	    {"db_host = [fd00::1]3306\n", "[address]:port"},
	    {"db_host = []:3306\n", "not a host"},
	    /* DB_HOST_COUNT_MAX (8) and no more. */
	    {"db_host = a,b,c,d,e,f,g,h,i\nrequest_deadline_s = 60\n",
	        "more than 8"},
	    /* Every node's connect timeout within a request's deadline. */
	    {"db_host = a,b,c,d,e\n", "request_deadline_s"},
	    {"db_host = a,b\ndb_connect_timeout_s = 5\n", "request_deadline_s"},
	};
	struct config c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		load_case(cases[i].text, -1, "db_host");
		load_case(cases[i].text, -1, cases[i].why);
	}
	/* The edges that are allowed. */
	load_ok("db_host = a,b,c,d,e,f,g,h\nrequest_deadline_s = 17\n", &c);
	ck_assert_int_eq(c.db_node_count, DB_HOST_COUNT_MAX);
	load_ok("db_host = a,b,c,d\n", &c);
	ck_assert_int_eq(c.db_node_count, 4);
	load_ok("db_host = a:1, b:65535\n", &c);
	ck_assert_uint_eq(c.db_nodes[1].port, 65535);
}
END_TEST

/* The built-in listen is a unix socket path, not a TCP port. */
START_TEST(test_config_defaults__listen__unix_socket)
{
	struct config c;

	config_defaults(&c);
	ck_assert_int_eq(c.listen[0], '/');
	ck_assert_ptr_null(strchr(c.listen, ':'));
}
END_TEST

Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config_load");

	tcase_add_test(tc, test_config_load__file_values__applied);
	tcase_add_test(tc, test_config_load__short_secret__rejected);
	tcase_add_test(
	    tc, test_config_load__unknown_key_and_bad_number__rejected);
	tcase_add_test(tc, test_config_load__env_overrides_file);
	tcase_add_test(
	    tc, test_config_load__lock_wait_times_4_below_rw__paired);
	tcase_add_test(
	    tc, test_config_load__lock_waits_below_request_deadline__paired);
	tcase_add_test(
	    tc, test_config_dev_mode__short_or_no_secret__serve_refused);
	tcase_add_test(
	    tc, test_config_secret_file__longer_than_max__refused_not_cut);
	tcase_add_test(tc, test_config_defaults__listen__unix_socket);
	tcase_add_test(tc, test_config_db_host__list__nodes_in_order);
	tcase_add_test(
	    tc, test_config_db_host__bad_or_too_long__refused_with_reason);
	suite_add_tcase(s, tc);
	return s;
}
