/*
 * Goal: passwords follow the form rule of API.md POST /register (8 to 128
 * bytes of UTF-8, no NUL), are stored as salted yescrypt hashes, verify
 * only with the right bytes, and an unknown user costs as much as a wrong
 * password.
 */
#include <check.h>
#include <string.h>

#include "password.h"

Suite *password_suite(void);

/* The length of a yescrypt hash's settings: "$y$<params>$". */
static size_t
setting_len(const char *hash)
{
	const char *p = strchr(hash + 1, '$');

	ck_assert_ptr_nonnull(p);
	p = strchr(p + 1, '$');
	ck_assert_ptr_nonnull(p);
	return (size_t)(p - hash) + 1;
}

/* n bytes of 'a' in buf (n < size). */
static const char *
fill(char *buf, size_t size, size_t n)
{
	ck_assert_uint_lt(n, size);
	memset(buf, 'a', n);
	buf[n] = '\0';
	return buf;
}

START_TEST(test_password_is_valid__length_limits__paired)
{
	char b[256];

	ck_assert(!password_is_valid(fill(b, sizeof(b), 7), 7));
	ck_assert(password_is_valid(fill(b, sizeof(b), 8), 8));
	ck_assert(password_is_valid(fill(b, sizeof(b), 128), 128));
	ck_assert(!password_is_valid(fill(b, sizeof(b), 129), 129));
	ck_assert(!password_is_valid("", 0));
}
END_TEST

START_TEST(test_password_is_valid__utf8_bytes_counted__paired)
{
	/* U+1F600 is 4 bytes: 32 of them are 128 bytes, 33 are 132. */
	static const char face[] = "\xf0\x9f\x98\x80";
	char b[256] = "";

	for (int i = 0; i < 32; i++)
		strcat(b, face);
	ck_assert_uint_eq(strlen(b), 128);
	ck_assert(password_is_valid(b, 128));
	strcat(b, face);
	ck_assert(!password_is_valid(b, strlen(b)));
	/* Two characters of 4 bytes are 8 bytes: long enough. */
	ck_assert(password_is_valid("\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 8));
	ck_assert(password_is_valid("p\xc3\xa4sswort", 9));
}
END_TEST

START_TEST(test_password_is_valid__bad_utf8_or_nul__rejected)
{
	ck_assert(!password_is_valid("abcd\0efgh", 9));
	ck_assert(!password_is_valid("abcdefg\x80", 8));       /* stray */
	ck_assert(!password_is_valid("abcdef\xc0\xaf", 8));    /* overlong */
	ck_assert(!password_is_valid("abcde\xe0\x80\xaf", 8)); /* overlong */
	ck_assert(!password_is_valid("abcde\xed\xa0\x80", 8)); /* surrogate */
	ck_assert(!password_is_valid("abcd\xf4\x90\x80\x80", 8)); /* >10FFFF */
	ck_assert(!password_is_valid("abcdef\xe2\x82", 8));       /* cut */
	ck_assert(!password_is_valid("abcdefg\xff", 8));
	ck_assert(password_is_valid("abcde\xe2\x82\xac", 8)); /* euro */
}
END_TEST

START_TEST(test_password_hash__valid__yescrypt_salted_round_trip)
{
	char h1[PASSWORD_HASH_SIZE_MAX], h2[PASSWORD_HASH_SIZE_MAX];

	ck_assert_int_eq(password_hash("correct horse", 13, h1), PASSWORD_OK);
	ck_assert_int_eq(password_hash("correct horse", 13, h2), PASSWORD_OK);
	ck_assert_int_eq(strncmp(h1, "$y$", 3), 0);
	/* A fresh salt each time. */
	ck_assert_str_ne(h1, h2);
	ck_assert_int_eq(password_verify("correct horse", 13, h1), PASSWORD_OK);
	ck_assert_int_eq(password_verify("correct horse", 13, h2), PASSWORD_OK);
}
END_TEST

START_TEST(test_password_hash__invalid__rejected_empty_out)
{
	char b[256], h[PASSWORD_HASH_SIZE_MAX];

	ck_assert_int_eq(
	    password_hash(fill(b, sizeof(b), 7), 7, h), PASSWORD_INVALID);
	ck_assert_str_eq(h, "");
	ck_assert_int_eq(
	    password_hash(fill(b, sizeof(b), 129), 129, h), PASSWORD_INVALID);
	ck_assert_str_eq(h, "");
	/* The longest password hashes, and only its exact bytes verify. */
	ck_assert_int_eq(
	    password_hash(fill(b, sizeof(b), 128), 128, h), PASSWORD_OK);
	ck_assert_int_eq(password_verify(b, 128, h), PASSWORD_OK);
	ck_assert_int_eq(password_verify(b, 127, h), PASSWORD_MISMATCH);
	ck_assert_int_eq(password_verify(fill(b, sizeof(b), 129), 129, h),
	    PASSWORD_MISMATCH);
}
END_TEST

START_TEST(test_password_verify__wrong_password__mismatch)
{
	char h[PASSWORD_HASH_SIZE_MAX];

	ck_assert_int_eq(password_hash("password123", 11, h), PASSWORD_OK);
	ck_assert_int_eq(
	    password_verify("password124", 11, h), PASSWORD_MISMATCH);
	ck_assert_int_eq(
	    password_verify("Password123", 11, h), PASSWORD_MISMATCH);
	ck_assert_int_eq(password_verify("", 0, h), PASSWORD_MISMATCH);
	/* Only len bytes count: the trailing '4' is not part of it. */
	ck_assert_int_eq(password_verify("password1234", 11, h), PASSWORD_OK);
	ck_assert_int_eq(
	    password_verify("password123\0x", 13, h), PASSWORD_MISMATCH);
}
END_TEST

START_TEST(test_password_verify__unreadable_hash__error)
{
	ck_assert_int_eq(
	    password_verify("password123", 11, "!locked"), PASSWORD_ERROR);
	ck_assert_int_eq(
	    password_verify("password123", 11, "$y$"), PASSWORD_ERROR);
}
END_TEST

START_TEST(test_password_verify_dummy__any__mismatch_same_cost)
{
	char h[PASSWORD_HASH_SIZE_MAX], big[PASSWORD_LEN_MAX + 2];
	const char *dummy;
	unsigned long n;

	ck_assert_int_eq(password_init(), 0);
	ck_assert_int_eq(password_hash("password123", 11, h), PASSWORD_OK);
	/* The same work as a real check: one hash with the same settings. */
	dummy = password_dummy_hash();
	ck_assert_uint_eq(setting_len(dummy), setting_len(h));
	ck_assert_int_eq(strncmp(dummy, h, setting_len(h)), 0);
	ck_assert_str_ne(dummy, h);
	n = password_check_count();
	ck_assert_int_eq(password_verify("wrongpass", 9, h), PASSWORD_MISMATCH);
	ck_assert_uint_eq(password_check_count(), n + 1);
	ck_assert_int_eq(
	    password_verify_dummy("wrongpass", 9), PASSWORD_MISMATCH);
	ck_assert_uint_eq(password_check_count(), n + 2);
	/* A password no account can have costs a hash all the same. */
	ck_assert_int_eq(
	    password_verify_dummy(fill(big, sizeof(big), PASSWORD_LEN_MAX + 1),
	        PASSWORD_LEN_MAX + 1),
	    PASSWORD_MISMATCH);
	ck_assert_uint_eq(password_check_count(), n + 3);
	/* The dummy never accepts, even its own kind of input. */
	ck_assert_int_eq(
	    password_verify_dummy("password123", 11), PASSWORD_MISMATCH);
}
END_TEST

Suite *
password_suite(void)
{
	Suite *s = suite_create("password");
	TCase *tc;

	tc = tcase_create("password_is_valid");
	tcase_add_test(tc, test_password_is_valid__length_limits__paired);
	tcase_add_test(tc, test_password_is_valid__utf8_bytes_counted__paired);
	tcase_add_test(tc, test_password_is_valid__bad_utf8_or_nul__rejected);
	suite_add_tcase(s, tc);
	tc = tcase_create("password_hash");
	tcase_add_test(
	    tc, test_password_hash__valid__yescrypt_salted_round_trip);
	tcase_add_test(tc, test_password_hash__invalid__rejected_empty_out);
	suite_add_tcase(s, tc);
	tc = tcase_create("password_verify");
	tcase_add_test(tc, test_password_verify__wrong_password__mismatch);
	tcase_add_test(tc, test_password_verify__unreadable_hash__error);
	suite_add_tcase(s, tc);
	tc = tcase_create("password_verify_dummy");
	tcase_add_test(tc, test_password_verify_dummy__any__mismatch_same_cost);
	suite_add_tcase(s, tc);
	return s;
}
