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
	suite_add_tcase(s, tc);
	return s;
}
