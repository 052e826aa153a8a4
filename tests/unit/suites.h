/*
 * Every unit suite, one line each: X(name) declares Suite *name_suite(void)
 * in tests/unit/check_<name>.c. check_main.c runs them all.
 */
#define UNIT_SUITES(X)                                                         \
	X(buf)                                                                 \
	X(http)                                                                \
	X(config)                                                              \
	X(jsonio)                                                              \
	X(password)                                                            \
	X(token)                                                               \
	X(money)                                                               \
	X(ledger)                                                              \
	X(log)                                                                 \
	X(source)                                                              \
	X(util)
