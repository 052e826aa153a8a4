/*
 * Goal: the Idempotency-Key header is accepted exactly as API.md says:
 * 1 to 255 printable ASCII characters (0x20 to 0x7e), nothing else.
 */
#include <check.h>
#include <string.h>

#include "idem.h"

Suite *ledger_suite(void);

START_TEST(test_idem_key_is_valid__length__1_to_255)
{
	char key[IDEM_KEY_LEN_MAX + 2];

	ck_assert(!idem_key_is_valid(""));
	ck_assert(idem_key_is_valid("k"));
	memset(key, 'k', IDEM_KEY_LEN_MAX);
	key[IDEM_KEY_LEN_MAX] = '\0';
	ck_assert(idem_key_is_valid(key));
	key[IDEM_KEY_LEN_MAX] = 'k';
	key[IDEM_KEY_LEN_MAX + 1] = '\0';
	ck_assert(!idem_key_is_valid(key));
}
END_TEST

START_TEST(test_idem_key_is_valid__bytes__printable_ascii_only)
{
	ck_assert(idem_key_is_valid(" "));
	ck_assert(idem_key_is_valid("~"));
	ck_assert(idem_key_is_valid("0b6d1f0e-8c1e-4f7a-9d3b-2b1f"));
	ck_assert(idem_key_is_valid("a key with spaces & {json}"));
	ck_assert(!idem_key_is_valid("bad\x1fkey"));
	ck_assert(!idem_key_is_valid("bad\x7fkey"));
	ck_assert(!idem_key_is_valid("tab\tkey"));
	ck_assert(!idem_key_is_valid("caf\xc3\xa9"));
	ck_assert(!idem_key_is_valid("\x80"));
}
END_TEST

Suite *
ledger_suite(void)
{
	Suite *s = suite_create("ledger");
	TCase *tc = tcase_create("idem_key_is_valid");

	tcase_add_test(tc, test_idem_key_is_valid__length__1_to_255);
	tcase_add_test(tc, test_idem_key_is_valid__bytes__printable_ascii_only);
	suite_add_tcase(s, tc);
	return s;
}
