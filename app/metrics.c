/*
 * Shared-memory metrics in the Prometheus text format.
 */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#include "bounds.h"
#include "metrics.h"

/*
 * The route names requests are counted by, as metrics_init() was given
 * them, and "-" last for any other.
 */
static const char *metrics_routes[METRICS_ROUTE_COUNT_MAX];
static size_t metrics_route_count;

/* The statuses the service answers; anything else counts as "other". */
static const int metrics_statuses[] = {
    200,
    201,
    400,
    401,
    404,
    405,
    409,
    413,
    415,
    422,
    429,
    500,
    503,
    0,
};
#define METRICS_STATUS_COUNT                                                   \
	(sizeof(metrics_statuses) / sizeof(metrics_statuses[0]))

/* Latency buckets in microseconds, "le" bounds of the histogram. */
static const int64_t metrics_buckets_us[] = {
    500,
    1000,
    2500,
    5000,
    10000,
    25000,
    50000,
    100000,
    250000,
    500000,
    1000000,
    2500000,
};
#define METRICS_BUCKET_COUNT                                                   \
	(sizeof(metrics_buckets_us) / sizeof(metrics_buckets_us[0]))

struct metrics_shm {
	uint64_t requests[METRICS_ROUTE_COUNT_MAX][METRICS_STATUS_COUNT];
	uint64_t latency[METRICS_BUCKET_COUNT + 1]; /* the last is +Inf */
	uint64_t latency_sum_us;
	uint64_t latency_count;
	uint64_t transfers;
	uint64_t transfer_amount_minor;
	uint64_t fee_minor;
	uint64_t deposits;
	uint64_t deposit_amount_minor;
	uint64_t insufficient_funds;
	uint64_t db_errors;
	uint64_t db_retries;
	int64_t workers_alive;
};

static struct metrics_shm *metrics_shm;

static void metrics_add(uint64_t *counter, uint64_t n);
static size_t metrics_route_index(const char *route);
static size_t metrics_status_index(int status);
static int metrics_render_requests(struct buf *out);
static int metrics_render_latency(struct buf *out);

int
metrics_init(const char *const *routes, size_t n)
{
	void *p;

	assert(n < METRICS_ROUTE_COUNT_MAX);
	for (size_t i = 0; i < n; i++)
		metrics_routes[i] = routes[i];
	metrics_routes[n] = "-";
	metrics_route_count = n + 1;
	p = mmap(NULL, sizeof(struct metrics_shm), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	metrics_shm = p;
	return 0;
}

static void
metrics_add(uint64_t *counter, uint64_t n)
{
	(void)__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static size_t
metrics_route_index(const char *route)
{
	for (size_t i = 0; i + 1 < metrics_route_count; i++)
		if (strcmp(metrics_routes[i], route) == 0)
			return i;
	return metrics_route_count - 1;
}

static size_t
metrics_status_index(int status)
{
	for (size_t i = 0; i + 1 < METRICS_STATUS_COUNT; i++)
		if (metrics_statuses[i] == status)
			return i;
	return METRICS_STATUS_COUNT - 1;
}

void
metrics_request(const char *route, int status, int64_t dur_us)
{
	size_t b = 0;

	if (metrics_shm == NULL)
		return;
	metrics_add(&metrics_shm->requests[metrics_route_index(route)]
	                                  [metrics_status_index(status)],
	    1);
	if (dur_us < 0)
		dur_us = 0;
	while (b < METRICS_BUCKET_COUNT && dur_us > metrics_buckets_us[b])
		b++;
	metrics_add(&metrics_shm->latency[b], 1);
	metrics_add(&metrics_shm->latency_sum_us, (uint64_t)dur_us);
	metrics_add(&metrics_shm->latency_count, 1);
}

void
metrics_transfer(int64_t amount_minor, int64_t fee_minor)
{
	if (metrics_shm == NULL)
		return;
	metrics_add(&metrics_shm->transfers, 1);
	metrics_add(
	    &metrics_shm->transfer_amount_minor, (uint64_t)amount_minor);
	metrics_add(&metrics_shm->fee_minor, (uint64_t)fee_minor);
}

void
metrics_deposit(int64_t amount_minor)
{
	if (metrics_shm == NULL)
		return;
	metrics_add(&metrics_shm->deposits, 1);
	metrics_add(&metrics_shm->deposit_amount_minor, (uint64_t)amount_minor);
}

void
metrics_insufficient_funds(void)
{
	if (metrics_shm != NULL)
		metrics_add(&metrics_shm->insufficient_funds, 1);
}

void
metrics_db_error(void)
{
	if (metrics_shm != NULL)
		metrics_add(&metrics_shm->db_errors, 1);
}

void
metrics_db_retry(void)
{
	if (metrics_shm != NULL)
		metrics_add(&metrics_shm->db_retries, 1);
}

void
metrics_workers_alive(int n)
{
	if (metrics_shm != NULL)
		__atomic_store_n(
		    &metrics_shm->workers_alive, (int64_t)n, __ATOMIC_RELAXED);
}

static uint64_t
metrics_load(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

static int
metrics_render_requests(struct buf *out)
{
	(void)buf_puts(out,
	    "# HELP payd_requests_total Requests answered, "
	    "by route and status.\n# TYPE payd_requests_total counter\n");
	for (size_t r = 0; r < metrics_route_count; r++)
		for (size_t s = 0; s < METRICS_STATUS_COUNT; s++) {
			uint64_t n = metrics_load(&metrics_shm->requests[r][s]);

			if (n == 0)
				continue;
			if (metrics_statuses[s] == 0)
				(void)buf_printf(out,
				    "payd_requests_total"
				    "{route=\"%s\",status=\"other\"} %llu\n",
				    metrics_routes[r], (unsigned long long)n);
			else
				(void)buf_printf(out,
				    "payd_requests_total"
				    "{route=\"%s\",status=\"%d\"} %llu\n",
				    metrics_routes[r], metrics_statuses[s],
				    (unsigned long long)n);
		}
	return out->overflow ? -1 : 0;
}

static int
metrics_render_latency(struct buf *out)
{
	uint64_t cum = 0;

	(void)buf_puts(out, "# HELP payd_request_duration_seconds Time from "
	                    "request to response in the app.\n"
	                    "# TYPE payd_request_duration_seconds histogram\n");
	for (size_t b = 0; b < METRICS_BUCKET_COUNT; b++) {
		int64_t us = metrics_buckets_us[b];

		cum += metrics_load(&metrics_shm->latency[b]);
		(void)buf_printf(out,
		    "payd_request_duration_seconds_bucket"
		    "{le=\"%lld.%06lld\"} %llu\n",
		    (long long)(us / 1000000), (long long)(us % 1000000),
		    (unsigned long long)cum);
	}
	cum += metrics_load(&metrics_shm->latency[METRICS_BUCKET_COUNT]);
	(void)buf_printf(out,
	    "payd_request_duration_seconds_bucket"
	    "{le=\"+Inf\"} %llu\n",
	    (unsigned long long)cum);
	{
		uint64_t sum = metrics_load(&metrics_shm->latency_sum_us);

		(void)buf_printf(out,
		    "payd_request_duration_seconds_sum "
		    "%llu.%06llu\npayd_request_duration_seconds_count %llu\n",
		    (unsigned long long)(sum / 1000000),
		    (unsigned long long)(sum % 1000000),
		    (unsigned long long)metrics_load(
		        &metrics_shm->latency_count));
	}
	return out->overflow ? -1 : 0;
}

int
metrics_render(struct buf *out)
{
	const struct {
		const char *name, *type, *help;
		const uint64_t *v;
	} simple[] = {
	    {"payd_transfers_total", "counter", "Committed transfers.",
	        &metrics_shm->transfers},
	    {"payd_transfer_amount_minor_total", "counter",
	        "Money moved by transfers, in cents.",
	        &metrics_shm->transfer_amount_minor},
	    {"payd_fee_minor_total", "counter", "Fees charged, in cents.",
	        &metrics_shm->fee_minor},
	    {"payd_deposits_total", "counter", "Committed top-ups.",
	        &metrics_shm->deposits},
	    {"payd_deposit_amount_minor_total", "counter",
	        "Money added by top-ups, in cents.",
	        &metrics_shm->deposit_amount_minor},
	    {"payd_insufficient_funds_total", "counter",
	        "Transfers refused for insufficient funds.",
	        &metrics_shm->insufficient_funds},
	    {"payd_db_errors_total", "counter",
	        "Database errors and lost connections.",
	        &metrics_shm->db_errors},
	    {"payd_db_retries_total", "counter",
	        "Transactions retried after a deadlock or lock wait.",
	        &metrics_shm->db_retries},
	};

	if (metrics_shm == NULL)
		return -1;
	if (metrics_render_requests(out) != 0 ||
	    metrics_render_latency(out) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		(void)buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n",
		    simple[i].name, simple[i].help, simple[i].name,
		    simple[i].type, simple[i].name,
		    (unsigned long long)metrics_load(simple[i].v));
	(void)buf_printf(out,
	    "# HELP payd_workers_alive Worker processes "
	    "running.\n# TYPE payd_workers_alive gauge\n"
	    "payd_workers_alive %lld\n",
	    (long long)__atomic_load_n(
	        &metrics_shm->workers_alive, __ATOMIC_RELAXED));
	return out->overflow ? -1 : 0;
}
