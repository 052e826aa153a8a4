/*
 * Prometheus metrics shared by every worker: counters in one anonymous
 * shared mapping created by the master before it forks, updated with
 * atomic adds, read by GET /metrics in any worker.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Maps the shared counters, requests counted by the n route names routes
 * (static strings, fewer than METRICS_ROUTE_COUNT_MAX; any other name
 * counts as "-"). Call once in the master before forking. Returns 0, or
 * -1 with errno set (metrics are then off, not fatal).
 */
int metrics_init(const char *const *routes, size_t n);

/* One finished request: its route name, status and duration. */
void metrics_request(const char *route, int status, int64_t dur_us);
/* A committed transfer of amount + fee, or a deposit, in minor units. */
void metrics_transfer(int64_t amount_minor, int64_t fee_minor);
void metrics_deposit(int64_t amount_minor);
/* A transfer refused for insufficient funds. */
void metrics_insufficient_funds(void);
/* A database error (any DB_ERROR or DB_CONN) and a deadlock retry. */
void metrics_db_error(void);
void metrics_db_retry(void);
/* The master's count of live workers. */
void metrics_workers_alive(int n);

/*
 * Writes every metric in the Prometheus text exposition format (0.0.4)
 * into out. Returns 0, or -1 when out is too small.
 */
int metrics_render(struct buf *out);

#endif /* METRICS_H */
