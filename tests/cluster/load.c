/*
 * The cluster tests' transfer load and its exact check (tests/cluster/
 * test.sh). Registers CLIENTS users (PREFIX0, PREFIX1, ...), funds each
 * with LOAD_FUNDS_MINOR, then runs CLIENTS threads of TRANSFERS transfers
 * each between them through nginx, every one with its own Idempotency-Key.
 * When FAULT is given, it runs (sh -c) once AT transfers have been
 * answered, while the load goes on. A transfer whose answer is not
 * definite (a 5xx, a 409 in progress, no answer at all) is retried with
 * its key, after the load and the fault, until it is: the key resolves it
 * to what the cluster did. Last, every balance must equal the one the
 * definite answers add up to, read through nginx.
 *
 * Usage: cluster-load URL PREFIX CLIENTS TRANSFERS [AT FAULT]
 * Prints "applied=N refused=N unknown=N replayed=N" and exits 0, or 1
 * with the reason on stderr.
 *
 * make bench-cluster's load: cluster-load -b URL PREFIX CLIENTS SECONDS
 * runs CLIENTS threads of transfers of 1.00 without keys (as make bench
 * does) for SECONDS, each a new connection through nginx, and prints
 * "RESULT transfers_s=... p50_ms=... p99_ms=... ok=N other=N" (every
 * status but 201 counts as other).
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "curl_req.h"

#define LOAD_CLIENTS_MAX 64
#define LOAD_TRANSFERS_MAX 10000
#define LOAD_FUNDS_MINOR 1000000 /* 10000.00 each: none is refused */
#define LOAD_BODY_MAX 8192
#define LOAD_TOKEN_MAX 1024
/* Resolving an answer: 600 tries 0.2 s apart, two minutes at most. */
#define LOAD_RESOLVE_TRIES 600
#define LOAD_RESOLVE_SLEEP_US 200000

struct load_resp {
	long status; /* 0: no answer */
	char body[LOAD_BODY_MAX];
	size_t len;
	int replayed; /* Idempotent-Replayed: true */
};

/* One transfer as the client saw it. */
struct load_xfer {
	int to;
	int64_t amount, fee;
	int outcome; /* 0 unknown, 1 applied, 2 refused */
};

struct load_client {
	int id;
	char name[40];
	char token[LOAD_TOKEN_MAX];
	struct load_xfer *xfers;
	int unknown, replayed;
	const char *err;
};

static const char *load_url;
static const char *load_prefix;
static int load_clients, load_transfers;
static atomic_int load_answered;
static struct load_client clients[LOAD_CLIENTS_MAX];

static size_t
load_on_body(char *data, size_t size, size_t n, void *arg)
{
	struct load_resp *r = arg;

	return curl_req_append(
	    r->body, sizeof(r->body), &r->len, data, size * n);
}

static size_t
load_on_header(char *data, size_t size, size_t n, void *arg)
{
	struct load_resp *r = arg;
	static const char h[] = "Idempotent-Replayed: true";

	if (size * n >= sizeof(h) - 1 &&
	    strncasecmp(data, h, sizeof(h) - 1) == 0)
		r->replayed = 1;
	return size * n;
}

/* One request; r->status is 0 when no HTTP answer came. */
static void
load_http(const char *method, const char *path, const char *token,
    const char *key, const char *body, struct load_resp *r)
{
	struct curl_slist *h = NULL;
	char line[LOAD_TOKEN_MAX + 64], url[512];
	CURL *c = curl_easy_init();

	memset(r, 0, sizeof(*r));
	if (c == NULL)
		return;
	(void)snprintf(url, sizeof(url), "%s%s", load_url, path);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	if (token != NULL) {
		(void)snprintf(
		    line, sizeof(line), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, line);
	}
	if (key != NULL) {
		(void)snprintf(line, sizeof(line), "Idempotency-Key: %s", key);
		h = curl_slist_append(h, line);
	}
	curl_req_setup(
	    c, url, method, h, body, load_on_body, load_on_header, r);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

/* A string field of a JSON object body, copied into out, or -1. */
static int
load_field(const struct load_resp *r, const char *name, char *out, size_t size)
{
	struct json_object *o = json_tokener_parse(r->body), *v;
	int rc = -1;

	if (o != NULL && json_object_object_get_ex(o, name, &v) &&
	    json_object_is_type(v, json_type_string) &&
	    (size_t)snprintf(out, size, "%s", json_object_get_string(v)) < size)
		rc = 0;
	json_object_put(o);
	return rc;
}

/* "12.34" into 1234; -1 when it is not such a text. */
static int64_t
load_minor(const char *text)
{
	int64_t units = 0;
	const char *p = text;

	for (; *p >= '0' && *p <= '9'; p++)
		units = units * 10 + (*p - '0');
	if (p == text || p[0] != '.' || p[1] < '0' || p[1] > '9' ||
	    p[2] < '0' || p[2] > '9' || p[3] != '\0')
		return -1;
	return units * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

/* A request retried (same key) until its answer is one of ok..ok2. */
static int
load_until(const char *method, const char *path, const char *token,
    const char *key, const char *body, long ok, long ok2, struct load_resp *r)
{
	for (int i = 0; i < LOAD_RESOLVE_TRIES; i++) {
		load_http(method, path, token, key, body, r);
		if (r->status == ok || r->status == ok2)
			return 0;
		if (r->status != 0 && r->status < 500 && r->status != 409)
			return -1;
		usleep(LOAD_RESOLVE_SLEEP_US);
	}
	return -1;
}

static int
load_setup(struct load_client *cl)
{
	char body[256], key[96];
	struct load_resp r;

	(void)snprintf(body, sizeof(body),
	    "{\"username\":\"%s\",\"password\":\"password123\"}", cl->name);
	/* A retried registration that had succeeded says the name is taken. */
	if (load_until("POST", "/register", NULL, NULL, body, 201, 409, &r) ||
	    load_until("POST", "/login", NULL, NULL, body, 200, 200, &r) ||
	    load_field(&r, "token", cl->token, sizeof(cl->token)) != 0)
		return -1;
	(void)snprintf(key, sizeof(key), "%s-fund", cl->name);
	return load_until("POST", "/balance", cl->token, key,
	    "{\"amount\":\"10000.00\"}", 200, 200, &r);
}

/* Sends transfer i of cl (again, when resolving); sets its outcome. */
static void
load_transfer(struct load_client *cl, int i, int resolving)
{
	struct load_xfer *x = &cl->xfers[i];
	char body[256], key[96], fee[32];
	struct load_resp r;

	(void)snprintf(key, sizeof(key), "%s-t%d", cl->name, i);
	(void)snprintf(body, sizeof(body),
	    "{\"to\":\"%s\",\"amount\":\"%" PRId64 ".%02" PRId64 "\"}",
	    clients[x->to].name, x->amount / 100, x->amount % 100);
	load_http("POST", "/transfer", cl->token, key, body, &r);
	if (r.status == 201) {
		if (load_field(&r, "fee", fee, sizeof(fee)) != 0 ||
		    (x->fee = load_minor(fee)) < 0) {
			cl->err = "a 201 without its fee";
			return;
		}
		x->outcome = 1;
		if (resolving && r.replayed)
			cl->replayed++;
	} else if (r.status == 422) {
		x->outcome = 2;
	} else if (r.status != 0 && r.status < 500 && r.status != 409) {
		(void)fprintf(
		    stderr, "load: %s: %ld %s\n", key, r.status, r.body);
		cl->err = "a transfer refused for no reason";
	}
}

static void *
load_client_run(void *arg)
{
	struct load_client *cl = arg;
	unsigned seed = (unsigned)cl->id * 7919u + 17u;

	for (int i = 0; i < load_transfers && cl->err == NULL; i++) {
		struct load_xfer *x = &cl->xfers[i];

		x->to =
		    (cl->id + 1 +
		        (int)(rand_r(&seed) % (unsigned)(load_clients - 1))) %
		    load_clients;
		x->amount = 100 + (int64_t)(rand_r(&seed) % 900);
		load_transfer(cl, i, 0);
		atomic_fetch_add(&load_answered, 1);
	}
	return NULL;
}

/* After the load: every unknown transfer again, with its key. */
static void *
load_client_resolve(void *arg)
{
	struct load_client *cl = arg;

	for (int i = 0; i < load_transfers && cl->err == NULL; i++) {
		int tries = 0;

		if (cl->xfers[i].outcome != 0)
			continue;
		cl->unknown++;
		while (cl->xfers[i].outcome == 0 && cl->err == NULL) {
			if (++tries > LOAD_RESOLVE_TRIES) {
				cl->err =
				    "a transfer never got a definite answer";
				break;
			}
			if (tries > 1)
				usleep(LOAD_RESOLVE_SLEEP_US);
			load_transfer(cl, i, 1);
		}
	}
	return NULL;
}

/* The benchmark (-b): latencies of each client's transfers. */
#define LOAD_BENCH_SAMPLES_MAX 200000

struct load_bench {
	double until;   /* CLOCK_MONOTONIC seconds */
	double *lat_ms; /* LOAD_BENCH_SAMPLES_MAX a client */
	int n[LOAD_CLIENTS_MAX], other[LOAD_CLIENTS_MAX];
};

static struct load_bench bench;

static double
load_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
load_bench_run(void *arg)
{
	struct load_client *cl = arg;
	unsigned seed = (unsigned)cl->id * 7919u + 17u;
	double *lat = bench.lat_ms + (size_t)cl->id * LOAD_BENCH_SAMPLES_MAX;
	char body[256];

	while (load_now() < bench.until &&
	       bench.n[cl->id] < LOAD_BENCH_SAMPLES_MAX) {
		int to =
		    (cl->id + 1 +
		        (int)(rand_r(&seed) % (unsigned)(load_clients - 1))) %
		    load_clients;
		struct load_resp r;
		double t0 = load_now();

		(void)snprintf(body, sizeof(body),
		    "{\"to\":\"%s\",\"amount\":\"1.00\"}", clients[to].name);
		load_http("POST", "/transfer", cl->token, NULL, body, &r);
		if (r.status != 201) {
			bench.other[cl->id]++;
			continue;
		}
		lat[bench.n[cl->id]++] = (load_now() - t0) * 1000.0;
	}
	return NULL;
}

static int
load_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* -b: the benchmark, after the setup; prints its RESULT line. */
static int
load_bench_main(int seconds)
{
	pthread_t th[LOAD_CLIENTS_MAX];
	size_t total = 0;
	int other = 0;
	double t0;

	bench.lat_ms = calloc(
	    (size_t)load_clients * LOAD_BENCH_SAMPLES_MAX, sizeof(double));
	if (bench.lat_ms == NULL)
		return 1;
	t0 = load_now();
	bench.until = t0 + seconds;
	for (int c = 0; c < load_clients; c++)
		pthread_create(&th[c], NULL, load_bench_run, &clients[c]);
	for (int c = 0; c < load_clients; c++)
		pthread_join(th[c], NULL);
	t0 = load_now() - t0;
	/* Every client's samples, one after another, then sorted. */
	for (int c = 0; c < load_clients; c++) {
		memmove(bench.lat_ms + total,
		    bench.lat_ms + (size_t)c * LOAD_BENCH_SAMPLES_MAX,
		    (size_t)bench.n[c] * sizeof(double));
		total += (size_t)bench.n[c];
		other += bench.other[c];
	}
	if (total == 0)
		return 1;
	qsort(bench.lat_ms, total, sizeof(double), load_cmp_double);
	printf("RESULT transfers_s=%.1f p50_ms=%.2f p99_ms=%.2f ok=%zu "
	       "other=%d\n",
	    (double)total / t0, bench.lat_ms[total / 2],
	    bench.lat_ms[total * 99 / 100], total, other);
	free(bench.lat_ms);
	return 0;
}

struct load_fault {
	int at;
	const char *cmd;
	int rc;
};

static void *
load_fault_run(void *arg)
{
	struct load_fault *f = arg;

	while (atomic_load(&load_answered) < f->at)
		usleep(10000);
	(void)fprintf(
	    stderr, "load: fault after %d answers: %s\n", f->at, f->cmd);
	f->rc = system(f->cmd);
	return NULL;
}

/* Each balance against the definite answers; 0 when all are exact. */
static int
load_check(void)
{
	int64_t expect[LOAD_CLIENTS_MAX];
	int bad = 0;

	for (int c = 0; c < load_clients; c++)
		expect[c] = LOAD_FUNDS_MINOR;
	for (int c = 0; c < load_clients; c++)
		for (int i = 0; i < load_transfers; i++) {
			const struct load_xfer *x = &clients[c].xfers[i];

			if (x->outcome != 1)
				continue;
			expect[c] -= x->amount + x->fee;
			expect[x->to] += x->amount;
		}
	for (int c = 0; c < load_clients; c++) {
		struct load_resp r;
		char bal[32];

		if (load_until("GET", "/balance", clients[c].token, NULL, NULL,
		        200, 200, &r) != 0 ||
		    load_field(&r, "balance", bal, sizeof(bal)) != 0 ||
		    load_minor(bal) != expect[c]) {
			(void)fprintf(stderr,
			    "load: %s: balance %s, expected %" PRId64
			    " minor\n",
			    clients[c].name, r.body, expect[c]);
			bad = 1;
		}
	}
	return bad;
}

int
main(int argc, char **argv)
{
	pthread_t th[LOAD_CLIENTS_MAX], fth;
	struct load_fault fault = {0};
	int applied = 0, refused = 0, unknown = 0, replayed = 0;

	int bench_mode = argc == 6 && strcmp(argv[1], "-b") == 0;

	if (bench_mode) {
		argv++;
		argc--;
	}
	if (argc != 5 && argc != 7) {
		(void)fprintf(stderr,
		    "usage: cluster-load URL PREFIX CLIENTS TRANSFERS [AT FAULT]\n");
		return 2;
	}
	load_url = argv[1];
	load_prefix = argv[2];
	load_clients = atoi(argv[3]);
	load_transfers = atoi(argv[4]);
	if (load_clients < 2 || load_clients > LOAD_CLIENTS_MAX ||
	    load_transfers < 1 ||
	    (!bench_mode && load_transfers > LOAD_TRANSFERS_MAX))
		return 2;
	curl_global_init(CURL_GLOBAL_ALL);
	for (int c = 0; c < load_clients; c++) {
		clients[c].id = c;
		(void)snprintf(clients[c].name, sizeof(clients[c].name), "%s%d",
		    load_prefix, c);
		clients[c].xfers =
		    calloc((size_t)load_transfers, sizeof(*clients[c].xfers));
		if (clients[c].xfers == NULL || load_setup(&clients[c]) != 0) {
			(void)fprintf(stderr, "load: cannot set up %s\n",
			    clients[c].name);
			return 1;
		}
	}
	if (bench_mode)
		return load_bench_main(load_transfers);
	if (argc == 7) {
		fault.at = atoi(argv[5]);
		fault.cmd = argv[6];
		pthread_create(&fth, NULL, load_fault_run, &fault);
	}
	for (int c = 0; c < load_clients; c++)
		pthread_create(&th[c], NULL, load_client_run, &clients[c]);
	for (int c = 0; c < load_clients; c++)
		pthread_join(th[c], NULL);
	if (argc == 7) {
		/* A fault that comes after the last answer still happens. */
		atomic_store(&load_answered, fault.at);
		pthread_join(fth, NULL);
		if (fault.rc != 0) {
			(void)fprintf(
			    stderr, "load: the fault failed (%d)\n", fault.rc);
			return 1;
		}
	}
	for (int c = 0; c < load_clients; c++)
		pthread_create(&th[c], NULL, load_client_resolve, &clients[c]);
	for (int c = 0; c < load_clients; c++)
		pthread_join(th[c], NULL);
	for (int c = 0; c < load_clients; c++) {
		if (clients[c].err != NULL) {
			(void)fprintf(stderr, "load: %s: %s\n", clients[c].name,
			    clients[c].err);
			return 1;
		}
		unknown += clients[c].unknown;
		replayed += clients[c].replayed;
		for (int i = 0; i < load_transfers; i++) {
			applied += clients[c].xfers[i].outcome == 1;
			refused += clients[c].xfers[i].outcome == 2;
		}
	}
	printf("applied=%d refused=%d unknown=%d replayed=%d\n", applied,
	    refused, unknown, replayed);
	if (load_check() != 0)
		return 1;
	curl_global_cleanup();
	return 0;
}
