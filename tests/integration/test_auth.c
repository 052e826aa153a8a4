/*
 * Goal: accounts and tokens keep API.md Authentication, POST /register and
 * POST /login over HTTP through nginx: every status and error code, the
 * username and password limits in pairs, case-insensitive uniqueness under
 * concurrent registrations, identical answers for an unknown user and a
 * wrong password, both auth schemes, and every kind of bad token (some
 * forged here with libjwt and the stack's own secret).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jwt.h>

#include "client.h"

Suite *auth_suite(void);

/* Concurrent registrations of one name. */
#define AUTH_RACERS 8

/* One request into R; extra may carry an Authorization header. */
static long
call(const char *method, const char *path, const char *body,
    const char *const *extra)
{
	resp_free(R);
	ck_assert_int_eq(api(method, path, NULL, body, extra, R), 0);
	return R->status;
}

static long
reg(const char *username, const char *password)
{
	char body[1024];

	(void)snprintf(body, sizeof(body),
	    "{\"username\":\"%s\",\"password\":\"%s\"}", username, password);
	return call("POST", "/register", body, NULL);
}

static long
login(const char *username, const char *password)
{
	char body[1024];

	(void)snprintf(body, sizeof(body),
	    "{\"username\":\"%s\",\"password\":\"%s\"}", username, password);
	return call("POST", "/login", body, NULL);
}

/* GET /balance with this Authorization header value (NULL: none). */
static long
balance_with(const char *authorization)
{
	char h[2200];
	const char *extra[] = {h, NULL};

	if (authorization == NULL)
		return call("GET", "/balance", NULL, NULL);
	(void)snprintf(h, sizeof(h), "Authorization: %s", authorization);
	return call("GET", "/balance", NULL, extra);
}

/* The contract's 401 for a protected route. */
static void
assert_unauthorized(const char *what)
{
	char v[128];

	ck_assert_msg(R->status == 401, "%s: %ld %s", what, R->status, R->body);
	ck_assert_str_eq(resp_err(R), "unauthorized");
	ck_assert_ptr_nonnull(resp_header(R, "WWW-Authenticate", v, sizeof(v)));
	ck_assert_str_eq(v, "Bearer");
	ck_assert_ptr_nonnull(resp_header(R, "Content-Type", v, sizeof(v)));
	ck_assert_str_eq(v, "application/json; charset=utf-8");
}

/* A 400 invalid_request whose message names field. */
static void
assert_invalid(const char *field, const char *what)
{
	struct json_object *e, *m;

	ck_assert_msg(R->status == 400, "%s: %ld %s", what, R->status, R->body);
	ck_assert_str_eq(resp_err(R), "invalid_request");
	ck_assert(json_object_object_get_ex(R->json, "error", &e));
	ck_assert(json_object_object_get_ex(e, "message", &m));
	ck_assert_msg(strstr(json_object_get_string(m), field) != NULL,
	    "%s: message does not name %s: %s", what, field, R->body);
}

/* A name of exactly len characters that no other test uses. */
static char *
name_of_len(char *out, size_t len)
{
	char base[64];
	size_t n;

	unique_name("u", base, sizeof(base));
	ck_assert_uint_le(len, 63);
	memset(out, 'z', len);
	out[len] = '\0';
	n = strlen(base) < len ? strlen(base) : len;
	memcpy(out, base, n);
	return out;
}

/* The stack's JWT secret, as payd reads it (trailing newlines dropped). */
static size_t
stack_secret(char *out, size_t size)
{
	char path[1024];
	size_t n;
	FILE *fp;

	(void)snprintf(
	    path, sizeof(path), "%s/jwt-secret", getenv("STACK_DIR"));
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	n = fread(out, 1, size - 1, fp);
	fclose(fp);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		n--;
	out[n] = '\0';
	ck_assert_uint_ge(n, 32);
	return n;
}

/* A token for id/name signed by libjwt with alg and the stack's secret. */
static void
forge(jwt_alg_t alg, long long id, const char *name, long long iat,
    long long exp, char *out, size_t size)
{
	char secret[1024], sub[32];
	size_t slen = stack_secret(secret, sizeof(secret));
	jwt_t *jwt = NULL;
	char *t;

	(void)snprintf(sub, sizeof(sub), "%lld", id);
	ck_assert_int_eq(jwt_new(&jwt), 0);
	ck_assert_int_eq(jwt_add_grant(jwt, "sub", sub), 0);
	ck_assert_int_eq(jwt_add_grant(jwt, "name", name), 0);
	ck_assert_int_eq(jwt_add_grant_int(jwt, "iat", (long)iat), 0);
	ck_assert_int_eq(jwt_add_grant_int(jwt, "exp", (long)exp), 0);
	ck_assert_int_eq(jwt_add_grant(jwt, "jti", "forged-in-test"), 0);
	ck_assert_int_eq(
	    jwt_set_alg(jwt, alg, (const unsigned char *)secret, (int)slen), 0);
	t = jwt_encode_str(jwt);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_lt(strlen(t), size);
	strcpy(out, t);
	free(t);
	jwt_free(jwt);
}

/* RFC 4648 base64url of a short ASCII text, without padding. */
static char *
b64url(const char *in, char *out)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw"
	    "xyz0123456789-_";
	size_t len = strlen(in), o = 0, i;

	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 |
		             (unsigned)in[i + 2];

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (len - i == 1) {
		out[o++] = a[(unsigned)in[i] >> 2];
		out[o++] = a[((unsigned)in[i] & 3) << 4];
	} else if (len - i == 2) {
		out[o++] = a[(unsigned)in[i] >> 2];
		out[o++] = a[(((unsigned)in[i] & 3) << 4) |
		             ((unsigned)in[i + 1] >> 4)];
		out[o++] = a[((unsigned)in[i + 1] & 15) << 2];
	}
	out[o] = '\0';
	return out;
}

START_TEST(test_register__valid__201_fields)
{
	char name[40], v[128], created[32];
	struct tm tm;
	time_t t, now = time(NULL);
	long long id;

	unique_name("reg", name, sizeof(name));
	ck_assert_int_eq(reg(name, "correct horse"), 201);
	ck_assert_ptr_nonnull(resp_header(R, "Content-Type", v, sizeof(v)));
	ck_assert_str_eq(v, "application/json; charset=utf-8");
	id = resp_int(R, "id");
	ck_assert_int_gt(id, 0);
	ck_assert_str_eq(resp_str(R, "username"), name);
	ck_assert_str_eq(resp_str(R, "balance"), "0.00");
	(void)snprintf(
	    created, sizeof(created), "%s", resp_str(R, "created_at"));
	/* RFC 3339 UTC with a Z, close to now. */
	memset(&tm, 0, sizeof(tm));
	ck_assert_uint_eq(strlen(created), 20);
	ck_assert_ptr_nonnull(strptime(created, "%Y-%m-%dT%H:%M:%SZ", &tm));
	t = timegm(&tm);
	ck_assert_msg(t >= now - 60 && t <= now + 60, "created_at %s", created);
	/* The row holds the same time as the response. */
	ck_assert_int_eq(
	    stack_cmd(
	        "[ \"$(stack_sql \"$STACK_DIR\" \"SELECT "
	        "DATE_FORMAT(created_at, '%%Y-%%m-%%dT%%H:%%i:%%sZ') FROM "
	        "payd.users WHERE id = %lld\")\" = '%s' ]",
	        id, created),
	    0);
	/* The password is stored only as a yescrypt hash. */
	ck_assert_int_eq(
	    stack_cmd(
	        "[ \"$(stack_sql \"$STACK_DIR\" \"SELECT "
	        "LEFT(password_hash, 3) FROM payd.users WHERE id = %lld\")\" = "
	        "'$y$' ]",
	        id),
	    0);
}
END_TEST

START_TEST(test_register__username_length__paired)
{
	char name[64];

	ck_assert_int_eq(reg("ab", "password123"), 400);
	assert_invalid("username", "2 characters");
	ck_assert_int_eq(reg(name_of_len(name, 3), "password123"), 201);
	ck_assert_int_eq(reg(name_of_len(name, 32), "password123"), 201);
	ck_assert_str_eq(resp_str(R, "username"), name);
	ck_assert_int_eq(reg(name_of_len(name, 33), "password123"), 400);
	assert_invalid("username", "33 characters");
}
END_TEST

START_TEST(test_register__username_characters__400)
{
	static const char *const bad[] = {
	    "al ice",
	    "alice!",
	    "al/ice",
	    "\\u00e9lise",
	    "alice\\n",
	    "",
	    "<b>x</b>",
	    "a'b--",
	};
	char name[40];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(reg(bad[i], "password123"), 400);
		assert_invalid("username", bad[i]);
	}
	/* Every allowed character class at once. */
	unique_name("A.b-c_9", name, sizeof(name));
	ck_assert_int_eq(reg(name, "password123"), 201);
}
END_TEST

START_TEST(test_register__password_length__paired)
{
	char name[40], pw[256];

	unique_name("pw", name, sizeof(name));
	ck_assert_int_eq(reg(name, "1234567"), 400);
	assert_invalid("password", "7 bytes");
	ck_assert_int_eq(reg(name, "12345678"), 201);
	unique_name("pw", name, sizeof(name));
	memset(pw, 'p', 129);
	pw[129] = '\0';
	ck_assert_int_eq(reg(name, pw), 400);
	assert_invalid("password", "129 bytes");
	pw[128] = '\0';
	ck_assert_int_eq(reg(name, pw), 201);
	ck_assert_int_eq(login(name, pw), 200);
	/* Bytes, not characters: 43 three-byte euro signs are 129 bytes. */
	unique_name("pw", name, sizeof(name));
	pw[0] = '\0';
	for (int i = 0; i < 43; i++)
		strcat(pw, "\xe2\x82\xac");
	ck_assert_int_eq(reg(name, pw), 400);
	assert_invalid("password", "129 UTF-8 bytes");
	pw[126] = '\0';
	strcat(pw, "xx");
	ck_assert_int_eq(reg(name, pw), 201);
}
END_TEST

START_TEST(test_register__password_nul_or_bad_utf8__400)
{
	char name[40], body[256];

	unique_name("nul", name, sizeof(name));
	ck_assert_int_eq(reg(name, "pass\\u0000word123"), 400);
	assert_invalid("password", "NUL");
	/* Raw bytes that are not UTF-8 never get past the JSON parser. */
	(void)snprintf(body, sizeof(body),
	    "{\"username\":\"%s\","
	    "\"password\":\"password\xff\xfe\"}",
	    name);
	ck_assert_int_eq(call("POST", "/register", body, NULL), 400);
	ck_assert_str_eq(resp_err(R), "invalid_request");
}
END_TEST

START_TEST(test_register__missing_or_mistyped_fields__400)
{
	char name[40], body[256];

	unique_name("fld", name, sizeof(name));
	ck_assert_int_eq(call("POST", "/register", "{}", NULL), 400);
	assert_invalid("username", "empty object");
	(void)snprintf(body, sizeof(body), "{\"username\":\"%s\"}", name);
	ck_assert_int_eq(call("POST", "/register", body, NULL), 400);
	assert_invalid("password", "no password");
	ck_assert_int_eq(call("POST", "/register",
	                     "{\"username\":7,"
	                     "\"password\":\"password123\"}",
	                     NULL),
	    400);
	assert_invalid("username", "number");
	ck_assert_int_eq(call("POST", "/register",
	                     "{\"username\":null,"
	                     "\"password\":\"password123\"}",
	                     NULL),
	    400);
	assert_invalid("username", "null");
	(void)snprintf(body, sizeof(body),
	    "{\"username\":\"%s\","
	    "\"password\":12345678}",
	    name);
	ck_assert_int_eq(call("POST", "/register", body, NULL), 400);
	assert_invalid("password", "number");
	(void)snprintf(body, sizeof(body),
	    "{\"username\":\"%s\","
	    "\"password\":[\"password123\"]}",
	    name);
	ck_assert_int_eq(call("POST", "/register", body, NULL), 400);
	assert_invalid("password", "array");
	ck_assert_int_eq(call("POST", "/register", "[]", NULL), 400);
	ck_assert_str_eq(resp_err(R), "invalid_request");
	/* Unknown fields are ignored. */
	(void)snprintf(body, sizeof(body),
	    "{\"username\":\"%s\","
	    "\"password\":\"password123\",\"admin\":true}",
	    name);
	ck_assert_int_eq(call("POST", "/register", body, NULL), 201);
}
END_TEST

START_TEST(test_register__duplicate_any_case__409)
{
	char name[40], upper[40];

	unique_name("Alice", name, sizeof(name));
	ck_assert_int_eq(reg(name, "password123"), 201);
	ck_assert_int_eq(reg(name, "password456"), 409);
	ck_assert_str_eq(resp_err(R), "username_taken");
	/* "Alice..." taken means "alice..." and "ALICE..." are too. */
	(void)snprintf(upper, sizeof(upper), "%s", name);
	upper[0] = 'a';
	ck_assert_int_eq(reg(upper, "password123"), 409);
	ck_assert_str_eq(resp_err(R), "username_taken");
	for (char *p = upper; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	ck_assert_int_eq(reg(upper, "password123"), 409);
	ck_assert_str_eq(resp_err(R), "username_taken");
}
END_TEST

START_TEST(test_register__concurrent_same_name__one_201)
{
	char name[40];
	pid_t pids[AUTH_RACERS];
	int created = 0, taken = 0;

	unique_name("race", name, sizeof(name));
	for (int i = 0; i < AUTH_RACERS; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			long st = reg(name, "password123");

			_exit(st == 201 ? 0 : st == 409 ? 1 : 2);
		}
	}
	for (int i = 0; i < AUTH_RACERS; i++) {
		int status;

		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status));
		created += WEXITSTATUS(status) == 0;
		taken += WEXITSTATUS(status) == 1;
	}
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(taken, AUTH_RACERS - 1);
	ck_assert_int_eq(
	    stack_cmd(
	        "[ \"$(stack_sql \"$STACK_DIR\" \"SELECT "
	        "COUNT(*) FROM payd.users WHERE username = '%s'\")\" = 1 ]",
	        name),
	    0);
}
END_TEST

START_TEST(test_login__valid__200_token)
{
	char name[40], v[64], secret[1024], token[2048];
	long long id;
	jwt_t *jwt = NULL;
	long long now = (long long)time(NULL);

	unique_name("Login", name, sizeof(name));
	ck_assert_int_eq(reg(name, "correct horse"), 201);
	id = resp_int(R, "id");
	ck_assert_int_eq(login(name, "correct horse"), 200);
	ck_assert_ptr_nonnull(resp_header(R, "Content-Type", v, sizeof(v)));
	ck_assert_str_eq(v, "application/json; charset=utf-8");
	ck_assert_ptr_nonnull(resp_header(R, "Cache-Control", v, sizeof(v)));
	ck_assert_str_eq(v, "no-store");
	ck_assert_str_eq(resp_str(R, "token_type"), "Bearer");
	ck_assert_int_eq(resp_int(R, "expires_in"), 900);
	(void)snprintf(token, sizeof(token), "%s", resp_str(R, "token"));
	/* HS256 with the stack's secret and the documented claims. */
	ck_assert_int_eq(jwt_decode(&jwt, token, (const unsigned char *)secret,
	                     (int)stack_secret(secret, sizeof(secret))),
	    0);
	ck_assert_int_eq(jwt_get_alg(jwt), JWT_ALG_HS256);
	ck_assert_int_eq(atoll(jwt_get_grant(jwt, "sub")), id);
	ck_assert_str_eq(jwt_get_grant(jwt, "name"), name);
	ck_assert_ptr_nonnull(jwt_get_grant(jwt, "jti"));
	ck_assert_int_le(llabs(jwt_get_grant_int(jwt, "iat") - now), 60);
	ck_assert_int_eq(
	    jwt_get_grant_int(jwt, "exp") - jwt_get_grant_int(jwt, "iat"), 900);
	jwt_free(jwt);
	/* The name is found without regard to case. */
	name[0] = 'l';
	ck_assert_int_eq(login(name, "correct horse"), 200);
}
END_TEST

/* The fastest of n logins, in ms, leaving the last answer in R. */
static double
login_ms(const char *name, const char *password, int n)
{
	double best = 1e9;

	for (int i = 0; i < n; i++) {
		struct timespec a, b;
		double ms;

		clock_gettime(CLOCK_MONOTONIC, &a);
		ck_assert_int_eq(login(name, password), 401);
		clock_gettime(CLOCK_MONOTONIC, &b);
		ms = (double)(b.tv_sec - a.tv_sec) * 1e3 +
		     (double)(b.tv_nsec - a.tv_nsec) / 1e6;
		best = ms < best ? ms : best;
	}
	return best;
}

START_TEST(test_login__unknown_or_wrong__same_401)
{
	char name[40], ghost[40], wrong_body[1024], pw[64];
	double wrong, unknown;

	unique_name("victim", name, sizeof(name));
	unique_name("ghost", ghost, sizeof(ghost));
	ck_assert_int_eq(reg(name, "password123"), 201);
	(void)snprintf(pw, sizeof(pw), "Wr0ngSecret%ld", (long)getpid());
	wrong = login_ms(name, pw, 3);
	ck_assert_str_eq(resp_err(R), "invalid_credentials");
	ck_assert_uint_lt(R->len, sizeof(wrong_body));
	memcpy(wrong_body, R->body, R->len + 1);
	unknown = login_ms(ghost, pw, 3);
	ck_assert_str_eq(resp_err(R), "invalid_credentials");
	ck_assert_str_eq(R->body, wrong_body);
	/* Both pay one hash: no large timing difference. */
	ck_assert_msg(unknown > wrong / 3 && unknown < wrong * 3,
	    "unknown %.1f ms vs wrong %.1f ms", unknown, wrong);
	/* Names and passwords no account can have: the same 401. */
	ck_assert_int_eq(login("ab", "password123"), 401);
	ck_assert_str_eq(R->body, wrong_body);
	ck_assert_int_eq(login(name, "short"), 401);
	ck_assert_str_eq(R->body, wrong_body);
	/* One log line per rejection, with the name and never the password. */
	ck_assert_int_eq(stack_cmd("cat \"$STACK_DIR\"/payd*.log | grep -q "
	                           "'event=login_rejected user=%s'",
	                     ghost),
	    0);
	ck_assert_int_eq(stack_cmd("cat \"$STACK_DIR\"/payd*.log | grep -q "
	                           "'%s'",
	                     pw),
	    1);
}
END_TEST

START_TEST(test_login__missing_or_mistyped_fields__400)
{
	ck_assert_int_eq(
	    call("POST", "/login", "{\"password\":\"password1\"}", NULL), 400);
	assert_invalid("username", "no username");
	ck_assert_int_eq(
	    call("POST", "/login", "{\"username\":\"alice\"}", NULL), 400);
	assert_invalid("password", "no password");
	ck_assert_int_eq(call("POST", "/login",
	                     "{\"username\":\"alice\","
	                     "\"password\":true}",
	                     NULL),
	    400);
	assert_invalid("password", "boolean");
}
END_TEST

START_TEST(test_auth__bearer_and_jwt_schemes__accepted)
{
	/* The scheme in any case, then one or more spaces. */
	static const char *const schemes[] = {
	    "Bearer ",
	    "JWT ",
	    "bearer ",
	    "jwt ",
	    "BEARER   ",
	};
	char name[40], token[1024], h[1200];

	unique_name("schemes", name, sizeof(name));
	ck_assert_int_gt(register_login(name, token), 0);
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		(void)snprintf(h, sizeof(h), "%s%s", schemes[i], token);
		/* Until GET /balance lands it may be a stub: "not 401". */
		ck_assert_msg(balance_with(h) != 401, "%s: %ld %s", schemes[i],
		    R->status, R->body);
	}
}
END_TEST

START_TEST(test_auth__bad_headers_and_tokens__401)
{
	char name[40], token[1024], h[2100], t[2048], b[256], *sig;
	long long id, now = (long long)time(NULL);

	unique_name("bad", name, sizeof(name));
	id = register_login(name, token);
	ck_assert_int_gt(id, 0);
	balance_with(NULL);
	assert_unauthorized("no header");
	balance_with("Basic dXNlcjpwYXNzd29yZDEyMw==");
	assert_unauthorized("Basic");
	(void)snprintf(h, sizeof(h), "Token %s", token);
	balance_with(h);
	assert_unauthorized("another scheme");
	(void)snprintf(h, sizeof(h), "Bearer%s", token);
	balance_with(h);
	assert_unauthorized("no space");
	balance_with("Bearer");
	assert_unauthorized("no token");
	balance_with("Bearer not.a.token");
	assert_unauthorized("malformed");
	balance_with("Bearer abc");
	assert_unauthorized("garbage");
	/* A bad signature: the first signature character changed. */
	(void)snprintf(t, sizeof(t), "%s", token);
	sig = strrchr(t, '.') + 1;
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	(void)snprintf(h, sizeof(h), "Bearer %s", t);
	balance_with(h);
	assert_unauthorized("bad signature");
	/* alg none: the real claims, no signature. */
	(void)snprintf(h, sizeof(h), "Bearer %s%.*s.",
	    b64url("{\"alg\":\"none\",\"typ\":\"JWT\"}", b),
	    (int)(strrchr(token, '.') - strchr(token, '.')),
	    strchr(token, '.'));
	balance_with(h);
	assert_unauthorized("alg none");
	/* HS512 with the right secret is still not HS256. */
	forge(JWT_ALG_HS512, id, name, now, now + 900, t, sizeof(t));
	(void)snprintf(h, sizeof(h), "Bearer %s", t);
	balance_with(h);
	assert_unauthorized("HS512");
}
END_TEST

START_TEST(test_auth__expiry__skew_30s)
{
	char name[40], token[1024], h[2100], t[2048];
	long long id, now = (long long)time(NULL);

	unique_name("exp", name, sizeof(name));
	id = register_login(name, token);
	ck_assert_int_gt(id, 0);
	/* Expired 10 s ago: inside the 30 s skew, accepted. */
	forge(JWT_ALG_HS256, id, name, now - 900, now - 10, t, sizeof(t));
	(void)snprintf(h, sizeof(h), "Bearer %s", t);
	ck_assert_int_ne(balance_with(h), 401);
	/* Expired 2 minutes ago: refused. */
	forge(JWT_ALG_HS256, id, name, now - 1000, now - 120, t, sizeof(t));
	(void)snprintf(h, sizeof(h), "JWT %s", t);
	balance_with(h);
	assert_unauthorized("expired");
	/* Issued 2 minutes in the future: refused. */
	forge(JWT_ALG_HS256, id, name, now + 120, now + 1000, t, sizeof(t));
	(void)snprintf(h, sizeof(h), "Bearer %s", t);
	balance_with(h);
	assert_unauthorized("iat in the future");
}
END_TEST

/* POST path with this Authorization header value and a JSON body. */
static long
post_with(const char *path, const char *authorization, const char *body)
{
	char h[2200];
	const char *extra[] = {h, "Content-Type: application/json", NULL};

	(void)snprintf(h, sizeof(h), "Authorization: %s", authorization);
	return call("POST", path, body, extra);
}

/* POST /transfer of 1 to the user with this id must be the contract's 401. */
static void
assert_transfer_to_id_unauthorized(
    const char *authorization, long long to_id, const char *what)
{
	char body[160];

	(void)snprintf(
	    body, sizeof(body), "{\"to_id\":%lld,\"amount\":\"1\"}", to_id);
	post_with("/transfer", authorization, body);
	assert_unauthorized(what);
}

/* A user to be removed or renamed, and a recipient: ids and headers. */
struct auth_pair {
	long long id, to_id;
	char to[40];
	char h[1200], th[1200]; /* "Bearer <token>" of each */
};

static void
auth_pair_make(const char *prefix, struct auth_pair *p)
{
	char name[40], token[1024];

	unique_name(prefix, name, sizeof(name));
	unique_name("kept", p->to, sizeof(p->to));
	p->id = register_login(name, token);
	ck_assert_int_gt(p->id, 0);
	(void)snprintf(p->h, sizeof(p->h), "Bearer %s", token);
	p->to_id = register_login(p->to, token);
	ck_assert_int_gt(p->to_id, 0);
	(void)snprintf(p->th, sizeof(p->th), "Bearer %s", token);
	ck_assert_int_ne(balance_with(p->h), 401);
}

START_TEST(test_auth__deleted_user__401)
{
	struct auth_pair p;
	char body[160];

	auth_pair_make("gone", &p);
	ck_assert_int_eq(stack_cmd("stack_sql \"$STACK_DIR\" \"DELETE FROM "
	                           "payd.users WHERE id=%lld\"",
	                     p.id),
	    0);
	balance_with(p.h);
	assert_unauthorized("deleted user");
	/*
	 * POST /transfer checks the user in its one database call
	 * (sql/R__payd_transfer.sql), and before any 400 of its own: 401
	 * whatever the body says (a missing check would answer 422
	 * insufficient_funds or 400).
	 */
	(void)snprintf(
	    body, sizeof(body), "{\"to\":\"%s\",\"amount\":\"1\"}", p.to);
	post_with("/transfer", p.h, body);
	assert_unauthorized("deleted user, transfer by name");
	assert_transfer_to_id_unauthorized(
	    p.h, p.to_id, "deleted user, transfer by id");
	assert_transfer_to_id_unauthorized(
	    p.h, p.id, "deleted user, transfer to oneself");
	post_with("/transfer", p.h, "{\"amount\":\"1\"}");
	assert_unauthorized("deleted user, transfer without recipient");
	post_with("/transfer", p.h, "[]");
	assert_unauthorized("deleted user, transfer body not an object");
	/* POST /balance likewise (sql/R__payd_deposit.sql). */
	post_with("/balance", p.h, "{\"amount\":\"1\"}");
	assert_unauthorized("deleted user, top-up");
	post_with("/balance", p.h, "{\"amount\":\"-1\"}");
	assert_unauthorized("deleted user, top-up of a bad amount");
}
END_TEST

/*
 * A token names its user by id and by name: a row whose name is no longer
 * the token's (an id reused after a deletion) is not the token's user,
 * even with money in it.
 */
START_TEST(test_auth__renamed_user__401_nothing_moved)
{
	struct auth_pair p;

	auth_pair_make("renm", &p);
	ck_assert_int_eq(
	    post_with("/balance", p.h, "{\"amount\":\"50\"}"), 200);
	ck_assert_int_eq(
	    stack_cmd("stack_sql \"$STACK_DIR\" \"UPDATE payd.users "
	              "SET username = CONCAT(username, '_x') "
	              "WHERE id=%lld\"",
	        p.id),
	    0);
	balance_with(p.h);
	assert_unauthorized("renamed user");
	assert_transfer_to_id_unauthorized(
	    p.h, p.to_id, "renamed user, transfer");
	post_with("/balance", p.h, "{\"amount\":\"1\"}");
	assert_unauthorized("renamed user, top-up");
	/* The renamed row kept its 50.00: neither call moved money. */
	ck_assert_int_eq(stack_cmd("test \"$(stack_sql \"$STACK_DIR\" "
	                           "\"SELECT balance FROM payd.users "
	                           "WHERE id=%lld\")\" = 5000",
	                     p.id),
	    0);
	/* Nothing reached the recipient. */
	ck_assert_int_eq(balance_with(p.th), 200);
	ck_assert_ptr_nonnull(strstr(R->body, "\"balance\":\"0.00\""));
}
END_TEST

Suite *
auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc;

	tc = tcase_create("register");
	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_add_test(tc, test_register__valid__201_fields);
	tcase_add_test(tc, test_register__username_length__paired);
	tcase_add_test(tc, test_register__username_characters__400);
	tcase_add_test(tc, test_register__password_length__paired);
	tcase_add_test(tc, test_register__password_nul_or_bad_utf8__400);
	tcase_add_test(tc, test_register__missing_or_mistyped_fields__400);
	tcase_add_test(tc, test_register__duplicate_any_case__409);
	tcase_add_test(tc, test_register__concurrent_same_name__one_201);
	suite_add_tcase(s, tc);
	tc = tcase_create("login");
	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_add_test(tc, test_login__valid__200_token);
	tcase_add_test(tc, test_login__unknown_or_wrong__same_401);
	tcase_add_test(tc, test_login__missing_or_mistyped_fields__400);
	suite_add_tcase(s, tc);
	tc = tcase_create("auth_check");
	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_add_test(tc, test_auth__bearer_and_jwt_schemes__accepted);
	tcase_add_test(tc, test_auth__bad_headers_and_tokens__401);
	tcase_add_test(tc, test_auth__expiry__skew_30s);
	tcase_add_test(tc, test_auth__deleted_user__401);
	tcase_add_test(tc, test_auth__renamed_user__401_nothing_moved);
	suite_add_tcase(s, tc);
	return s;
}
