/*
 * The unit test runner: every suite of suites.h, Check's summary on stdout
 * and TAP in build/unit.tap. CK_FORK=no for valgrind.
 */
#include <check.h>
#include <stdlib.h>

#include "suites.h"

#define UNIT_DECLARE(name) Suite *name##_suite(void);
UNIT_SUITES(UNIT_DECLARE)

int
main(void)
{
	SRunner *sr = srunner_create(NULL);
	int failed;

#define UNIT_ADD(name) srunner_add_suite(sr, name##_suite());
	UNIT_SUITES(UNIT_ADD)
	srunner_set_tap(
	    sr, getenv("UNIT_TAP") != NULL ? getenv("UNIT_TAP") : "/dev/null");
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
