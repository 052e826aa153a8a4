/*
 * Every integration suite, one line each: X(name) declares
 * Suite *name_suite(void) in tests/integration/test_<name>.c. They run in
 * this order against one stack; "faults" stops and restarts parts of it,
 * so it stays last.
 */
#define INTEGRATION_SUITES(X)                                                  \
	X(foundation)                                                          \
	X(ops)                                                                 \
	X(auth)                                                                \
	X(balance)                                                             \
	X(transfer)                                                            \
	X(idempotency)                                                         \
	X(history)                                                             \
	X(concurrency)                                                         \
	X(batching)                                                            \
	X(dbfaults)                                                            \
	X(money_faults)                                                        \
	X(edges)                                                               \
	X(accounts)                                                            \
	X(holds)                                                               \
	X(statement)                                                           \
	X(batch)                                                               \
	X(faults)
