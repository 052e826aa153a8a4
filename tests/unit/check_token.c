/*
 * Goal: only HS256 tokens signed with our secret, with well-formed claims,
 * inside their lifetime give or take the 30 s skew (API.md
 * Authentication), pass token_verify; every forged or damaged form fails
 * for its own reason. Tokens are built here with libjwt or by hand.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>

#include "token.h"

Suite *token_suite(void);

#define SECRET "0123456789abcdef0123456789abcdef"
#define SECRET_LEN (sizeof(SECRET) - 1)
#define NOW ((int64_t)1780000000)
#define TOK_SIZE 4096

static enum token_rc
verify_at(const char *token, int64_t now)
{
	struct token_claims c;
	enum token_rc rc = token_verify(SECRET, SECRET_LEN, token, now, &c);

	if (rc != TOKEN_OK)
		ck_assert_int_eq(c.user_id, 0);
	return rc;
}

/* Claims of user 7 "alice" from iat to exp, plus pad bytes of padding. */
static const char *
claims(char *buf, size_t size, long long iat, long long exp, size_t pad)
{
	int n = snprintf(buf, size,
	    "{\"sub\":\"7\",\"name\":\"alice\","
	    "\"iat\":%lld,\"exp\":%lld,\"jti\":\"j1\",\"pad\":\"%*s\"}",
	    iat, exp, (int)pad, "");

	ck_assert(n > 0 && (size_t)n < size);
	return buf;
}

/* A token that libjwt signs with alg and key over the claims JSON. */
static const char *
forge(jwt_alg_t alg, const char *key, const char *json, const char *kid,
    char out[TOK_SIZE])
{
	jwt_t *jwt = NULL;
	char *t;

	ck_assert_int_eq(jwt_new(&jwt), 0);
	ck_assert_int_eq(jwt_add_grants_json(jwt, json), 0);
	if (kid != NULL)
		ck_assert_int_eq(jwt_add_header(jwt, "kid", kid), 0);
	ck_assert_int_eq(jwt_set_alg(jwt, alg, (const unsigned char *)key,
	                     key != NULL ? (int)strlen(key) : 0),
	    0);
	t = jwt_encode_str(jwt);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_lt(strlen(t), TOK_SIZE);
	strcpy(out, t);
	free(t);
	jwt_free(jwt);
	return out;
}

/* RFC 4648 base64url without padding. */
static char *
b64url(const char *in, char *out)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw"
	    "xyz0123456789-_";
	size_t len = strlen(in), o = 0, i;
	const unsigned char *p = (const unsigned char *)in;

	for (i = 0; i + 2 < len; i += 3) {
		unsigned v =
		    (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (len - i == 1) {
		out[o++] = a[p[i] >> 2];
		out[o++] = a[(p[i] & 3) << 4];
	} else if (len - i == 2) {
		out[o++] = a[p[i] >> 2];
		out[o++] = a[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		out[o++] = a[(p[i + 1] & 15) << 2];
	}
	out[o] = '\0';
	return out;
}

/* A token made of this header JSON and the rest of a real token. */
static const char *
with_header(const char *header, const char *real, char out[TOK_SIZE])
{
	char h[512];

	(void)snprintf(
	    out, TOK_SIZE, "%s%s", b64url(header, h), strchr(real, '.'));
	return out;
}

/* A good token of user 7 "alice", issued at NOW for 900 s. */
static const char *
good(char out[TOKEN_SIZE_MAX + 1])
{
	ck_assert_int_eq(
	    token_issue(SECRET, SECRET_LEN, 7, "alice", 3, NOW, 900, out),
	    TOKEN_OK);
	return out;
}

START_TEST(test_token_issue__claims__round_trip)
{
	char t1[TOKEN_SIZE_MAX + 1], t2[TOKEN_SIZE_MAX + 1];
	struct token_claims c;
	jwt_t *jwt = NULL;

	good(t1);
	good(t2);
	ck_assert_str_ne(t1, t2); /* a random jti each */
	ck_assert_int_eq(
	    token_verify(SECRET, SECRET_LEN, t1, NOW, &c), TOKEN_OK);
	ck_assert_int_eq(c.user_id, 7);
	ck_assert_str_eq(c.name, "alice");
	ck_assert_int_eq(c.iat, NOW);
	ck_assert_int_eq(c.exp, NOW + 900);
	ck_assert_int_eq(c.gen, 3);
	/* The claims' JSON types: sub a string, iat/exp numbers, a jti. */
	ck_assert_int_eq(jwt_decode(&jwt, t1, (const unsigned char *)SECRET,
	                     (int)SECRET_LEN),
	    0);
	ck_assert_int_eq(jwt_get_alg(jwt), JWT_ALG_HS256);
	ck_assert_str_eq(jwt_get_grant(jwt, "sub"), "7");
	ck_assert_str_eq(jwt_get_grant(jwt, "name"), "alice");
	ck_assert_int_eq(jwt_get_grant_int(jwt, "exp"), NOW + 900);
	ck_assert_int_eq(jwt_get_grant_int(jwt, "gen"), 3);
	ck_assert_uint_eq(strlen(jwt_get_grant(jwt, "jti")), 32);
	jwt_free(jwt);
}
END_TEST

START_TEST(test_token_issue__ttl_max__accepted)
{
	char t[TOKEN_SIZE_MAX + 1];
	struct token_claims c;

	ck_assert_int_eq(token_issue(SECRET, SECRET_LEN, INT64_MAX, "a.b-c_D9",
	                     0, NOW, TOKEN_TTL_S_MAX, t),
	    TOKEN_OK);
	ck_assert_int_eq(
	    token_verify(SECRET, SECRET_LEN, t, NOW + TOKEN_TTL_S_MAX, &c),
	    TOKEN_OK);
	ck_assert_int_eq(c.user_id, INT64_MAX);
	ck_assert_str_eq(c.name, "a.b-c_D9");
}
END_TEST

START_TEST(test_token_verify__alg_none__bad_alg)
{
	char t[TOK_SIZE], j[256], real[TOKEN_SIZE_MAX + 1], x[TOK_SIZE];

	claims(j, sizeof(j), NOW, NOW + 900, 0);
	/* libjwt's own unsigned token: "header.payload." */
	forge(JWT_ALG_NONE, NULL, j, NULL, t);
	ck_assert_int_eq(verify_at(t, NOW), TOKEN_BAD_ALG);
	/* "none" in front of a real signature, and other spellings. */
	good(real);
	ck_assert_int_eq(
	    verify_at(with_header("{\"alg\":\"none\"}", real, x), NOW),
	    TOKEN_BAD_ALG);
	ck_assert_int_eq(verify_at(with_header("{\"alg\":\"hs256\","
	                                       "\"typ\":\"JWT\"}",
	                               real, x),
	                     NOW),
	    TOKEN_BAD_ALG);
	ck_assert_int_eq(
	    verify_at(with_header("{\"typ\":\"JWT\"}", real, x), NOW),
	    TOKEN_BAD_ALG);
	ck_assert_int_eq(verify_at(with_header("{\"alg\":256}", real, x), NOW),
	    TOKEN_BAD_ALG);
}
END_TEST

START_TEST(test_token_verify__hs512_hs384__bad_alg)
{
	char t[TOK_SIZE], j[256], hs256[TOKEN_SIZE_MAX + 1], x[TOK_SIZE];

	claims(j, sizeof(j), NOW, NOW + 900, 0);
	ck_assert_int_eq(
	    verify_at(forge(JWT_ALG_HS512, SECRET, j, NULL, t), NOW),
	    TOKEN_BAD_ALG);
	ck_assert_int_eq(
	    verify_at(forge(JWT_ALG_HS384, SECRET, j, NULL, t), NOW),
	    TOKEN_BAD_ALG);
	/* An HS512 signature under a header that claims HS256. */
	forge(JWT_ALG_HS512, SECRET, j, NULL, t);
	good(hs256);
	(void)snprintf(x, sizeof(x), "%.*s%s",
	    (int)(strchr(hs256, '.') - hs256), hs256, strchr(t, '.'));
	ck_assert_int_eq(verify_at(x, NOW), TOKEN_BAD_SIG);
}
END_TEST

START_TEST(test_token_verify__tampered_payload__bad_sig)
{
	char t[TOKEN_SIZE_MAX + 1], x[TOK_SIZE], p[256];
	const char *dot1, *dot2;

	good(t);
	dot1 = strchr(t, '.');
	dot2 = strchr(dot1 + 1, '.');
	/* The same claims for user 8 under user 7's signature. */
	(void)snprintf(x, sizeof(x), "%.*s.%s%s", (int)(dot1 - t), t,
	    b64url("{\"sub\":\"8\",\"name\":\"alice\",\"iat\":1780000000,"
	           "\"exp\":1780000900,\"jti\":\"j\"}",
	        p),
	    dot2);
	ck_assert_int_eq(verify_at(x, NOW), TOKEN_BAD_SIG);
}
END_TEST

START_TEST(test_token_verify__tampered_signature__bad_sig)
{
	char t[TOKEN_SIZE_MAX + 1];
	char *sig;

	good(t);
	sig = strrchr(t, '.') + 1;
	/* The first character: all of its 6 bits are signature bits. */
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(verify_at(t, NOW), TOKEN_BAD_SIG);
	good(t);
	t[strlen(t) - 1] = '\0';
	ck_assert_int_ne(verify_at(t, NOW), TOKEN_OK);
}
END_TEST

START_TEST(test_token_verify__wrong_secret__bad_sig)
{
	char t[TOKEN_SIZE_MAX + 1];
	struct token_claims c;

	good(t);
	ck_assert_int_eq(token_verify("0123456789abcdef0123456789abcdeF",
	                     SECRET_LEN, t, NOW, &c),
	    TOKEN_BAD_SIG);
	ck_assert_int_eq(token_verify(SECRET "x", SECRET_LEN + 1, t, NOW, &c),
	    TOKEN_BAD_SIG);
}
END_TEST

START_TEST(test_token_verify__expired__skew_paired)
{
	char t[TOKEN_SIZE_MAX + 1];

	good(t);
	ck_assert_int_eq(verify_at(t, NOW + 900), TOKEN_OK);
	ck_assert_int_eq(verify_at(t, NOW + 900 + TOKEN_SKEW_S), TOKEN_OK);
	ck_assert_int_eq(
	    verify_at(t, NOW + 900 + TOKEN_SKEW_S + 1), TOKEN_EXPIRED);
	ck_assert_int_eq(verify_at(t, NOW + 86400), TOKEN_EXPIRED);
}
END_TEST

START_TEST(test_token_verify__future_iat__skew_paired)
{
	char t[TOKEN_SIZE_MAX + 1];

	good(t);
	ck_assert_int_eq(verify_at(t, NOW - TOKEN_SKEW_S), TOKEN_OK);
	ck_assert_int_eq(verify_at(t, NOW - TOKEN_SKEW_S - 1), TOKEN_FUTURE);
}
END_TEST

START_TEST(test_token_verify__garbage__malformed)
{
	static const char *const bad[] = {
	    "",
	    "abc",
	    "a.b",
	    "a.b.c.d",
	    "...",
	    "a..b",
	    "!!!.e30.sig",
	    "eyJhbGciOiJIUzI1NiJ9.e30.",      /* no signature */
	    "bm90IGpzb24.e30.c2ln",           /* header "not json" */
	    "W10.e30.c2ln",                   /* header "[]" */
	    "eyJhbGciOiJIUzI1NiJ9=.e30.c2ln", /* padding */
	    "eyJhbGciOiJIUzI1NiJ9 .e30.c2ln",
	};
	char t[TOKEN_SIZE_MAX + 1], x[TOK_SIZE];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(verify_at(bad[i], NOW) == TOKEN_MALFORMED,
		    "accepted as well-formed: %s", bad[i]);
	/* A header that is JSON but names a type or extension we refuse. */
	good(t);
	ck_assert_int_eq(verify_at(with_header("{\"alg\":\"HS256\","
	                                       "\"typ\":\"JOSE\"}",
	                               t, x),
	                     NOW),
	    TOKEN_MALFORMED);
	ck_assert_int_eq(verify_at(with_header("{\"alg\":\"HS256\","
	                                       "\"crit\":[\"exp\"]}",
	                               t, x),
	                     NOW),
	    TOKEN_MALFORMED);
	/* A good token with a byte glued on. */
	(void)snprintf(x, sizeof(x), "%s!", t);
	ck_assert_int_eq(verify_at(x, NOW), TOKEN_MALFORMED);
}
END_TEST

/* Finds the padding and kid that make a token exactly len bytes long. */
static void
forge_len(size_t len, char out[TOK_SIZE])
{
	char j[TOK_SIZE], kid[8];

	for (int k = 0; k < 4; k++) {
		(void)snprintf(kid, sizeof(kid), "%.*s", k, "kkkk");
		for (size_t pad = 0; pad < 1000; pad++) {
			claims(j, sizeof(j), NOW, NOW + 900, pad);
			forge(
			    JWT_ALG_HS256, SECRET, j, k > 0 ? kid : NULL, out);
			if (strlen(out) == len)
				return;
			if (strlen(out) > len)
				break;
		}
	}
	ck_abort_msg("no token of %zu bytes", len);
}

START_TEST(test_token_verify__size_limit__paired)
{
	char t[TOK_SIZE];

	forge_len(TOKEN_SIZE_MAX, t);
	ck_assert_uint_eq(strlen(t), TOKEN_SIZE_MAX);
	ck_assert_int_eq(verify_at(t, NOW), TOKEN_OK);
	forge_len(TOKEN_SIZE_MAX + 1, t);
	ck_assert_uint_eq(strlen(t), TOKEN_SIZE_MAX + 1);
	ck_assert_int_eq(verify_at(t, NOW), TOKEN_MALFORMED);
}
END_TEST

START_TEST(test_token_verify__lifetime_limit__paired)
{
	char t[TOK_SIZE], j[256];

	claims(j, sizeof(j), NOW, NOW + TOKEN_TTL_S_MAX, 0);
	ck_assert_int_eq(
	    verify_at(forge(JWT_ALG_HS256, SECRET, j, NULL, t), NOW), TOKEN_OK);
	claims(j, sizeof(j), NOW, NOW + TOKEN_TTL_S_MAX + 1, 0);
	ck_assert_int_eq(
	    verify_at(forge(JWT_ALG_HS256, SECRET, j, NULL, t), NOW),
	    TOKEN_CLAIMS);
}
END_TEST

START_TEST(test_token_verify__bad_claims__rejected)
{
	/* Times are NOW and NOW + 900 where they are not the point. */
	static const char *const bad[] = {
	    /* sub: missing, not a string, zero, signed, padded, huge */
	    "{\"name\":\"alice\",\"iat\":1780000000,\"exp\":1780000900,"
	    "\"jti\":\"j\"}",
	    "{\"sub\":7,\"name\":\"alice\",\"iat\":1780000000,"
	    "\"exp\":1780000900,\"jti\":\"j\"}",
	    "{\"sub\":\"0\",\"name\":\"alice\",\"iat\":1780000000,"
	    "\"exp\":1780000900,\"jti\":\"j\"}",
	    "{\"sub\":\"-7\",\"name\":\"alice\",\"iat\":1780000000,"
	    "\"exp\":1780000900,\"jti\":\"j\"}",
	    "{\"sub\":\"07\",\"name\":\"alice\",\"iat\":1780000000,"
	    "\"exp\":1780000900,\"jti\":\"j\"}",
	    "{\"sub\":\"9223372036854775808\",\"name\":\"alice\","
	    "\"iat\":1780000000,\"exp\":1780000900,\"jti\":\"j\"}",
	    /* name: missing, too short, too long, a bad character */
	    "{\"sub\":\"7\",\"iat\":1780000000,\"exp\":1780000900,"
	    "\"jti\":\"j\"}",
	    "{\"sub\":\"7\",\"name\":\"al\",\"iat\":1780000000,"
	    "\"exp\":1780000900,\"jti\":\"j\"}",
	    "{\"sub\":\"7\",\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
	    "\"iat\":1780000000,\"exp\":1780000900,\"jti\":\"j\"}",
	    "{\"sub\":\"7\",\"name\":\"al ice\",\"iat\":1780000000,"
	    "\"exp\":1780000900,\"jti\":\"j\"}",
	    /* jti missing or empty; iat and exp missing or mistyped */
	    "{\"sub\":\"7\",\"name\":\"alice\",\"iat\":1780000000,"
	    "\"exp\":1780000900}",
	    "{\"sub\":\"7\",\"name\":\"alice\",\"iat\":1780000000,"
	    "\"exp\":1780000900,\"jti\":\"\"}",
	    "{\"sub\":\"7\",\"name\":\"alice\",\"iat\":\"1780000000\","
	    "\"exp\":1780000900,\"jti\":\"j\"}",
	    "{\"sub\":\"7\",\"name\":\"alice\",\"iat\":1780000000,"
	    "\"exp\":1780000900.5,\"jti\":\"j\"}",
	    "{\"sub\":\"7\",\"name\":\"alice\",\"exp\":1780000900,"
	    "\"jti\":\"j\"}",
	    "{\"sub\":\"7\",\"name\":\"alice\",\"iat\":1780000000,"
	    "\"jti\":\"j\"}",
	    /* gen: negative, a string, a fraction */
	    "{\"sub\":\"7\",\"name\":\"alice\",\"iat\":1780000000,"
	    "\"exp\":1780000900,\"jti\":\"j\",\"gen\":-1}",
	    "{\"sub\":\"7\",\"name\":\"alice\",\"iat\":1780000000,"
	    "\"exp\":1780000900,\"jti\":\"j\",\"gen\":\"1\"}",
	    "{\"sub\":\"7\",\"name\":\"alice\",\"iat\":1780000000,"
	    "\"exp\":1780000900,\"jti\":\"j\",\"gen\":1.5}",
	};
	char t[TOK_SIZE], j[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		forge(JWT_ALG_HS256, SECRET, bad[i], NULL, t);
		ck_assert_msg(verify_at(t, NOW) == TOKEN_CLAIMS,
		    "accepted claims: %s", bad[i]);
	}
	/* exp not after iat, and times before 1970. */
	claims(j, sizeof(j), NOW, NOW, 0);
	ck_assert_int_eq(
	    verify_at(forge(JWT_ALG_HS256, SECRET, j, NULL, t), NOW),
	    TOKEN_CLAIMS);
	claims(j, sizeof(j), -10, 100, 0);
	ck_assert_int_eq(
	    verify_at(forge(JWT_ALG_HS256, SECRET, j, NULL, t), NOW),
	    TOKEN_CLAIMS);
	/* A 32-character name is the longest allowed. */
	(void)snprintf(j, sizeof(j),
	    "{\"sub\":\"7\",\"name\":\"%s\","
	    "\"iat\":%lld,\"exp\":%lld,\"jti\":\"j\"}",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", (long long)NOW,
	    (long long)NOW + 900);
	ck_assert_int_eq(
	    verify_at(forge(JWT_ALG_HS256, SECRET, j, NULL, t), NOW), TOKEN_OK);
}
END_TEST

/* A token without gen is of generation 0; gen 0 itself is accepted. */
START_TEST(test_token_verify__gen__absent_is_zero)
{
	char t[TOK_SIZE], j[512];
	struct token_claims c;

	claims(j, sizeof(j), NOW, NOW + 900, 0);
	forge(JWT_ALG_HS256, SECRET, j, NULL, t);
	ck_assert_int_eq(
	    token_verify(SECRET, SECRET_LEN, t, NOW, &c), TOKEN_OK);
	ck_assert_int_eq(c.gen, 0);
	(void)snprintf(j, sizeof(j),
	    "{\"sub\":\"7\",\"name\":\"alice\",\"iat\":%lld,"
	    "\"exp\":%lld,\"jti\":\"j\",\"gen\":0}",
	    (long long)NOW, (long long)NOW + 900);
	forge(JWT_ALG_HS256, SECRET, j, NULL, t);
	ck_assert_int_eq(
	    token_verify(SECRET, SECRET_LEN, t, NOW, &c), TOKEN_OK);
	ck_assert_int_eq(c.gen, 0);
}
END_TEST

Suite *
token_suite(void)
{
	Suite *s = suite_create("token");
	TCase *tc;

	tc = tcase_create("token_issue");
	tcase_add_test(tc, test_token_issue__claims__round_trip);
	tcase_add_test(tc, test_token_issue__ttl_max__accepted);
	suite_add_tcase(s, tc);
	tc = tcase_create("token_verify");
	tcase_add_test(tc, test_token_verify__alg_none__bad_alg);
	tcase_add_test(tc, test_token_verify__hs512_hs384__bad_alg);
	tcase_add_test(tc, test_token_verify__tampered_payload__bad_sig);
	tcase_add_test(tc, test_token_verify__tampered_signature__bad_sig);
	tcase_add_test(tc, test_token_verify__wrong_secret__bad_sig);
	tcase_add_test(tc, test_token_verify__expired__skew_paired);
	tcase_add_test(tc, test_token_verify__future_iat__skew_paired);
	tcase_add_test(tc, test_token_verify__garbage__malformed);
	tcase_add_test(tc, test_token_verify__size_limit__paired);
	tcase_add_test(tc, test_token_verify__lifetime_limit__paired);
	tcase_add_test(tc, test_token_verify__bad_claims__rejected);
	tcase_add_test(tc, test_token_verify__gen__absent_is_zero);
	suite_add_tcase(s, tc);
	return s;
}
