/*
 * Goal: the HTTP layer keeps the contract's conventions through nginx:
 * health, 404, 405 with Allow, 413, 415, the error shape, the content type
 * and X-Request-Id on every response.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

Suite *foundation_suite(void);

static void
assert_conventions(const struct resp *r)
{
	char v[128];

	ck_assert_ptr_nonnull(resp_header(r, "Content-Type", v, sizeof(v)));
	ck_assert_str_eq(v, "application/json; charset=utf-8");
	ck_assert_ptr_nonnull(resp_header(r, "X-Request-Id", v, sizeof(v)));
	ck_assert_uint_eq(strlen(v), 32);
	ck_assert_msg(r->json != NULL, "body is not JSON: %s", r->body);
}

START_TEST(test_healthz__db_up__200_ok)
{
	ck_assert_int_eq(api("GET", "/healthz", NULL, NULL, NULL, R), 0);
	ck_assert_int_eq(R->status, 200);
	assert_conventions(R);
	ck_assert_str_eq(resp_str(R, "status"), "ok");
}
END_TEST

START_TEST(test_unknown_path__404_not_found)
{
	ck_assert_int_eq(api("GET", "/no/such/path", NULL, NULL, NULL, R), 0);
	ck_assert_int_eq(R->status, 404);
	assert_conventions(R);
	ck_assert_str_eq(resp_err(R), "not_found");
}
END_TEST

START_TEST(test_wrong_method__405_with_allow)
{
	char v[64];

	ck_assert_int_eq(api("DELETE", "/balance", NULL, NULL, NULL, R), 0);
	ck_assert_int_eq(R->status, 405);
	assert_conventions(R);
	ck_assert_str_eq(resp_err(R), "method_not_allowed");
	ck_assert_ptr_nonnull(resp_header(R, "Allow", v, sizeof(v)));
	ck_assert_str_eq(v, "GET, POST");
	resp_free(R);
	ck_assert_int_eq(api("GET", "/transfer", NULL, NULL, NULL, R), 0);
	ck_assert_int_eq(R->status, 405);
	ck_assert_ptr_nonnull(resp_header(R, "Allow", v, sizeof(v)));
	ck_assert_str_eq(v, "POST");
}
END_TEST

START_TEST(test_body_not_json__415)
{
	static const char *const ct[] = {"Content-Type: text/plain", NULL};

	ck_assert_int_eq(api("POST", "/register", NULL, "{}", ct, R), 0);
	ck_assert_int_eq(R->status, 415);
	assert_conventions(R);
	ck_assert_str_eq(resp_err(R), "unsupported_media_type");
}
END_TEST

START_TEST(test_body_over_16k__413_json)
{
	char *big = malloc(17 * 1024);

	ck_assert_ptr_nonnull(big);
	memset(big, ' ', 17 * 1024 - 1);
	big[0] = '{';
	big[17 * 1024 - 2] = '}';
	big[17 * 1024 - 1] = '\0';
	ck_assert_int_eq(api("POST", "/register", NULL, big, NULL, R), 0);
	free(big);
	ck_assert_int_eq(R->status, 413);
	assert_conventions(R);
	ck_assert_str_eq(resp_err(R), "payload_too_large");
}
END_TEST

START_TEST(test_body_16k_exactly__not_413)
{
	size_t n = 16 * 1024;
	char *big = malloc(n + 1);

	ck_assert_ptr_nonnull(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	ck_assert_int_eq(api("POST", "/register", NULL, big, NULL, R), 0);
	free(big);
	ck_assert_int_eq(R->status, 400);
	ck_assert_str_eq(resp_err(R), "invalid_request");
}
END_TEST

START_TEST(test_malformed_json__400_invalid_request)
{
	ck_assert_int_eq(
	    api("POST", "/login", NULL, "{\"username\":", NULL, R), 0);
	ck_assert_int_eq(R->status, 400);
	assert_conventions(R);
	ck_assert_str_eq(resp_err(R), "invalid_request");
	resp_free(R);
	ck_assert_int_eq(api("POST", "/login", NULL, "[1,2]", NULL, R), 0);
	ck_assert_int_eq(R->status, 400);
	ck_assert_str_eq(resp_err(R), "invalid_request");
}
END_TEST

/* docs/openapi.yaml at /openapi.yaml: a static file, as the page is. */
START_TEST(test_openapi_yaml__served_like_the_page)
{
	char v[512], csp[512], etag[128], inm[160];
	const char *const cond[] = {inm, NULL};

	ck_assert_int_eq(api("GET", "/", NULL, NULL, NULL, R), 0);
	ck_assert_int_eq(R->status, 200);
	ck_assert_ptr_nonnull(
	    resp_header(R, "Content-Security-Policy", csp, sizeof(csp)));
	resp_free(R);
	ck_assert_int_eq(api("GET", "/openapi.yaml", NULL, NULL, NULL, R), 0);
	ck_assert_int_eq(R->status, 200);
	ck_assert_ptr_nonnull(resp_header(R, "Content-Type", v, sizeof(v)));
	ck_assert_str_eq(v, "application/yaml; charset=utf-8");
	ck_assert_msg(strncmp(R->body, "openapi: 3.1", 12) == 0,
	    "not the document: %.40s", R->body);
	ck_assert_ptr_nonnull(
	    resp_header(R, "Content-Security-Policy", v, sizeof(v)));
	ck_assert_str_eq(v, csp);
	ck_assert_ptr_nonnull(resp_header(R, "Cache-Control", v, sizeof(v)));
	ck_assert_str_eq(v, "no-cache");
	ck_assert_ptr_nonnull(resp_header(R, "X-Request-Id", v, sizeof(v)));
	ck_assert_uint_eq(strlen(v), 32);
	/* Cacheable: revalidated by its ETag. */
	ck_assert_ptr_nonnull(resp_header(R, "ETag", etag, sizeof(etag)));
	(void)snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	resp_free(R);
	ck_assert_int_eq(api("GET", "/openapi.yaml", NULL, NULL, cond, R), 0);
	ck_assert_int_eq(R->status, 304);
	ck_assert_uint_eq(R->len, 0);
	resp_free(R);
	/* Another method: 405 naming the methods of a static file. */
	ck_assert_int_eq(api("POST", "/openapi.yaml", NULL, "{}", NULL, R), 0);
	ck_assert_int_eq(R->status, 405);
	assert_conventions(R);
	ck_assert_str_eq(resp_err(R), "method_not_allowed");
	ck_assert_ptr_nonnull(resp_header(R, "Allow", v, sizeof(v)));
	ck_assert_str_eq(v, "GET, HEAD");
}
END_TEST

/*
 * Runs sql as the app's own database account (the stack's payd, as
 * payd.conf names it); returns 0 only when the server refused it for want
 * of a right (ERROR 1142/1143, "command denied").
 */
static int
app_sql_denied(const char *sql)
{
	return stack_cmd("out=$(MYSQL_PWD=$(cat \"$STACK_DIR/db-password\") "
	                 "mariadb --no-defaults -S \"$STACK_DIR/mysql.sock\" "
	                 "-u payd payd -e \"%s\" 2>&1); "
	                 "printf '%%s' \"$out\" | grep -Eq 'ERROR 114[23]'",
	    sql);
}

/*
 * Money moves only through the stored routines (deploy/grants.sql): the
 * app's account may not write a balance or the ledger itself, and a
 * refused write changes nothing.
 */
START_TEST(test_app_db_account__direct_money_writes__refused)
{
	char name[40], token[1024], bal[32], sql[512];
	long long id;

	unique_name("prv", name, sizeof(name));
	id = register_login(name, token);
	ck_assert_int_gt(id, 0);
	ck_assert_int_eq(top_up(token, "5.00"), 200);
	(void)snprintf(sql, sizeof(sql),
	    "UPDATE users SET balance = balance + 100000 WHERE id = %lld", id);
	ck_assert_int_eq(app_sql_denied(sql), 0);
	(void)snprintf(sql, sizeof(sql),
	    "DELETE FROM entries WHERE account_id = %lld", id);
	ck_assert_int_eq(app_sql_denied(sql), 0);
	ck_assert_int_eq(app_sql_denied("INSERT INTO users (username, "
	                                "password_hash, balance) VALUES "
	                                "('prvrich', 'x', 100000)"),
	    0);
	ck_assert_int_eq(
	    app_sql_denied("UPDATE fee_accounts SET balance = 0"), 0);
	ck_assert_int_eq(app_sql_denied("INSERT INTO entries (account_kind, "
	                                "account_id, movement_id, type, delta) "
	                                "VALUES ('user', 1, 1, 'deposit', 1)"),
	    0);
	ck_assert_int_eq(app_sql_denied("DELETE FROM movements"), 0);
	ck_assert_str_eq(balance_of(token, bal, sizeof(bal)), "5.00");
	/* What the app itself runs still works for it. */
	ck_assert_int_eq(
	    stack_cmd("MYSQL_PWD=$(cat \"$STACK_DIR/db-password\") mariadb "
	              "--no-defaults -S \"$STACK_DIR/mysql.sock\" -u payd payd "
	              "-e 'SELECT COUNT(*) FROM entries' >/dev/null"),
	    0);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

/*
 * The FastCGI sockets are 0660: nginx reaches them through the group, and
 * no other local user reaches the app without nginx.
 */
START_TEST(test_fastcgi_socket__mode_0660)
{
	ck_assert_int_eq(stack_cmd("for s in \"$STACK_DIR\"/payd*.sock; do "
	                           "[ \"$(stat -c %%a \"$s\")\" = 660 ] || "
	                           "exit 1; done"),
	    0);
}
END_TEST

Suite *
foundation_suite(void)
{
	Suite *s = suite_create("foundation");
	TCase *tc = tcase_create("http");

	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_add_test(tc, test_healthz__db_up__200_ok);
	tcase_add_test(tc, test_unknown_path__404_not_found);
	tcase_add_test(tc, test_wrong_method__405_with_allow);
	tcase_add_test(tc, test_body_not_json__415);
	tcase_add_test(tc, test_body_over_16k__413_json);
	tcase_add_test(tc, test_body_16k_exactly__not_413);
	tcase_add_test(tc, test_malformed_json__400_invalid_request);
	tcase_add_test(tc, test_openapi_yaml__served_like_the_page);
	tcase_add_test(tc, test_app_db_account__direct_money_writes__refused);
	tcase_add_test(tc, test_fastcgi_socket__mode_0660);
	suite_add_tcase(s, tc);
	return s;
}
