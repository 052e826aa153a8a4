/*
 * The integration and end-to-end runner: every suite of suites.h, over
 * HTTP through nginx, against the private stack of integration.sh.
 */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

#include "suites.h"

#define INTEG_DECLARE(name) Suite *name##_suite(void);
INTEGRATION_SUITES(INTEG_DECLARE)

int
main(void)
{
	SRunner *sr;
	int failed;

	if (getenv("STACK_URL") == NULL) {
		(void)fprintf(stderr, "run through tests/lib/integration.sh\n");
		return EXIT_FAILURE;
	}
	curl_global_init(CURL_GLOBAL_ALL);
	sr = srunner_create(NULL);
#define INTEG_ADD(name) srunner_add_suite(sr, name##_suite());
	INTEGRATION_SUITES(INTEG_ADD)
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
