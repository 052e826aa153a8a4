/*
 * Goal: drive one payd worker (under valgrind, tests/valgrind/run.sh)
 * through every code path a client can reach, many times over, and report
 * how its resident memory moves. Usage:
 *   vg_load URL WORKER_PID COUNT
 * Registers and logs in two users, sends 500 mixed requests to warm up,
 * reads the worker's VmRSS, sends COUNT mixed requests, reads it again.
 * The mix: healthz, metrics, balance, top-ups (some replayed through an
 * Idempotency-Key), transfers, history pages, and the refusals: bad
 * amounts, bad JSON, wrong Content-Type, bad query, no or a bad token,
 * unknown path, wrong method.
 * Prints "rss_before_kb=N rss_after_kb=N" and a line per request kind.
 * Exits 1 on a transport failure, on any 503 (the database is up, so a
 * 503 is nginx finding no worker), and when a request whose answer does
 * not depend on the handlers (healthz, 404, 405, 415, 401) gets another
 * status; other kinds' unexpected statuses are listed but do not fail,
 * since they are the functional tests' business.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#define LOAD_BODY_SIZE_MAX (64 * 1024)
#define LOAD_TOKEN_SIZE_MAX 2048
#define LOAD_WARMUP_COUNT 500

struct load_kind {
	const char *name;
	const char *method;
	const char *path;  /* "@" stands for the other user's name */
	const char *body;  /* NULL: no body */
	const char *ctype; /* NULL: application/json when there is a body */
	int auth;          /* 0 none, 1 the token, 2 a forged token */
	long want;         /* the status API.md gives */
	bool strict;       /* a wrong status fails the run */
	int idem;          /* 1: an Idempotency-Key used twice */
	long sent, wrong, got_other;
};

static struct load_kind load_kinds[] = {
    {"healthz", "GET", "/healthz", NULL, NULL, 0, 200, true, 0, 0, 0, 0},
    {"metrics", "GET", "/metrics", NULL, NULL, 0, 200, true, 0, 0, 0, 0},
    {"balance", "GET", "/balance", NULL, NULL, 1, 200, false, 0, 0, 0, 0},
    {"top_up", "POST", "/balance", "{\"amount\":\"1.00\"}", NULL, 1, 200, false,
        0, 0, 0, 0},
    {"top_up_idem", "POST", "/balance", "{\"amount\": 2.5}", NULL, 1, 200,
        false, 1, 0, 0, 0},
    {"transfer", "POST", "/transfer", "{\"to\":\"@\",\"amount\":\"0.10\"}",
        NULL, 1, 201, false, 0, 0, 0, 0},
    {"transfer_idem", "POST", "/transfer", "{\"to\":\"@\",\"amount\":\"0.20\"}",
        NULL, 1, 201, false, 1, 0, 0, 0},
    {"history", "GET", "/transactions?limit=5", NULL, NULL, 1, 200, false, 0, 0,
        0, 0},
    {"history_bad", "GET", "/transactions?limit=0", NULL, NULL, 1, 400, false,
        0, 0, 0, 0},
    {"amount_bad", "POST", "/balance", "{\"amount\":\"1.005\"}", NULL, 1, 400,
        false, 0, 0, 0, 0},
    {"amount_null", "POST", "/balance", "{\"amount\":null}", NULL, 1, 400,
        false, 0, 0, 0, 0},
    {"json_bad", "POST", "/transfer", "{\"to\":", NULL, 1, 400, false, 0, 0, 0,
        0},
    {"json_array", "POST", "/register", "[1,2]", NULL, 0, 400, false, 0, 0, 0,
        0},
    {"to_id_double", "POST", "/transfer", "{\"to_id\":1e3,\"amount\":\"1\"}",
        NULL, 1, 400, false, 0, 0, 0, 0},
    {"ctype_bad", "POST", "/balance", "amount=1", "text/plain", 1, 415, true, 0,
        0, 0, 0},
    {"no_token", "GET", "/balance", NULL, NULL, 0, 401, true, 0, 0, 0, 0},
    {"bad_token", "GET", "/balance", NULL, NULL, 2, 401, true, 0, 0, 0, 0},
    {"not_found", "GET", "/nope", NULL, NULL, 0, 404, true, 0, 0, 0, 0},
    {"method_bad", "DELETE", "/balance", NULL, NULL, 0, 405, true, 0, 0, 0, 0},
    {"register_bad", "POST", "/register",
        "{\"username\":\"@\",\"password\":\"short\"}", NULL, 0, 400, false, 0,
        0, 0, 0},
};

#define LOAD_KIND_COUNT (sizeof(load_kinds) / sizeof(load_kinds[0]))

static CURL *load_curl;
static char load_url[512];
static char load_token[LOAD_TOKEN_SIZE_MAX];
static char load_peer[64];
static long load_fail;

struct load_resp {
	char body[LOAD_BODY_SIZE_MAX];
	size_t len;
};

static size_t load_on_body(char *data, size_t size, size_t n, void *arg);
static long load_do(const char *method, const char *path, const char *body,
    const char *ctype, const char *auth, const char *idem, struct load_resp *r);
static bool load_user(const char *name, char *token_out);
static long load_rss_kb(long pid);
static void load_subst(char *out, size_t size, const char *tmpl);
static void load_mix(long i);

/* tmpl with each '@' replaced by the other user's name, into out. */
static void
load_subst(char *out, size_t size, const char *tmpl)
{
	size_t o = 0;

	for (const char *p = tmpl; *p != '\0'; p++) {
		const char *put = *p == '@' ? load_peer : p;
		size_t n = *p == '@' ? strlen(load_peer) : 1;

		if (o + n >= size)
			break;
		memcpy(out + o, put, n);
		o += n;
	}
	out[o] = '\0';
}

static size_t
load_on_body(char *data, size_t size, size_t n, void *arg)
{
	struct load_resp *r = arg;
	size_t len = size * n;

	if (len >= sizeof(r->body) - r->len)
		return 0;
	memcpy(r->body + r->len, data, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

/* One request on the kept-alive connection; the status, or -1. */
static long
load_do(const char *method, const char *path, const char *body,
    const char *ctype, const char *auth, const char *idem, struct load_resp *r)
{
	struct curl_slist *h = NULL;
	char url[1024], line[LOAD_TOKEN_SIZE_MAX + 64];
	long status = -1;

	r->len = 0;
	r->body[0] = '\0';
	(void)snprintf(url, sizeof(url), "%s%s", load_url, path);
	curl_easy_reset(load_curl);
	(void)curl_easy_setopt(load_curl, CURLOPT_URL, url);
	(void)curl_easy_setopt(load_curl, CURLOPT_CUSTOMREQUEST, method);
	(void)curl_easy_setopt(load_curl, CURLOPT_WRITEFUNCTION, load_on_body);
	(void)curl_easy_setopt(load_curl, CURLOPT_WRITEDATA, r);
	(void)curl_easy_setopt(load_curl, CURLOPT_TIMEOUT, 60L);
	if (body != NULL) {
		(void)snprintf(line, sizeof(line), "Content-Type: %s",
		    ctype != NULL ? ctype : "application/json");
		h = curl_slist_append(h, line);
		(void)curl_easy_setopt(load_curl, CURLOPT_POSTFIELDS, body);
	}
	if (auth != NULL) {
		(void)snprintf(
		    line, sizeof(line), "Authorization: Bearer %s", auth);
		h = curl_slist_append(h, line);
	}
	if (idem != NULL) {
		(void)snprintf(line, sizeof(line), "Idempotency-Key: %s", idem);
		h = curl_slist_append(h, line);
	}
	h = curl_slist_append(h, "Expect:");
	(void)curl_easy_setopt(load_curl, CURLOPT_HTTPHEADER, h);
	if (curl_easy_perform(load_curl) == CURLE_OK)
		(void)curl_easy_getinfo(
		    load_curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	return status;
}

/* Registers name (or finds it taken) and logs in; false on failure. */
static bool
load_user(const char *name, char *token_out)
{
	static struct load_resp r;
	char body[256];
	const char *p, *end;
	long st;

	(void)snprintf(body, sizeof(body),
	    "{\"username\":\"%s\","
	    "\"password\":\"valgrind-password\"}",
	    name);
	st = load_do("POST", "/register", body, NULL, NULL, NULL, &r);
	printf("register %s: %ld\n", name, st);
	st = load_do("POST", "/login", body, NULL, NULL, NULL, &r);
	printf("login %s: %ld\n", name, st);
	token_out[0] = '\0';
	p = strstr(r.body, "\"token\":");
	if (st != 200 || p == NULL)
		return false;
	p = strchr(p + 8, '"');
	end = p != NULL ? strchr(p + 1, '"') : NULL;
	if (end == NULL || (size_t)(end - p) >= LOAD_TOKEN_SIZE_MAX)
		return false;
	memcpy(token_out, p + 1, (size_t)(end - p - 1));
	token_out[end - p - 1] = '\0';
	return true;
}

static long
load_rss_kb(long pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	(void)snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	}
	(void)fclose(f);
	return kb;
}

static void
load_mix(long i)
{
	static struct load_resp r;
	struct load_kind *k = &load_kinds[(size_t)i % LOAD_KIND_COUNT];
	char path[256], body[512], idem[64];
	const char *auth = NULL;
	long st;

	load_subst(path, sizeof(path), k->path);
	if (k->body != NULL)
		load_subst(body, sizeof(body), k->body);
	if (k->auth == 1 && load_token[0] != '\0')
		auth = load_token;
	else if (k->auth == 2)
		auth = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
	/* Each key twice in a row of this kind: the second is a replay. */
	(void)snprintf(idem, sizeof(idem), "vg-%d-%s-%ld", (int)getpid(),
	    k->name, k->sent / 2);
	st = load_do(k->method, path, k->body != NULL ? body : NULL, k->ctype,
	    auth, k->idem ? idem : NULL, &r);
	k->sent++;
	if (st < 0 || st == 503 || st == 504) {
		load_fail++;
		(void)fprintf(stderr, "%s: %s %s: %ld %s\n", k->name, k->method,
		    path, st, r.body);
	} else if (st != k->want) {
		k->wrong++;
		if (k->strict)
			load_fail++;
		if (k->wrong <= 2)
			(void)fprintf(stderr,
			    "%s: %s %s: %ld, want %ld: %.200s\n", k->name,
			    k->method, path, st, k->want, r.body);
	}
}

int
main(int argc, char *argv[])
{
	char me[64];
	long pid, count, before, after;

	if (argc != 4) {
		(void)fprintf(stderr, "usage: vg_load URL WORKER_PID COUNT\n");
		return 2;
	}
	(void)snprintf(load_url, sizeof(load_url), "%s", argv[1]);
	pid = strtol(argv[2], NULL, 10);
	count = strtol(argv[3], NULL, 10);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (load_curl = curl_easy_init()) == NULL)
		return 2;
	(void)snprintf(me, sizeof(me), "vg%d", (int)getpid());
	(void)snprintf(load_peer, sizeof(load_peer), "vg%dp", (int)getpid());
	if (!load_user(load_peer, load_token))
		printf("note: no token for %s; protected routes answer 401\n",
		    load_peer);
	if (!load_user(me, load_token))
		printf(
		    "note: no token for %s; protected routes answer 401\n", me);
	for (long i = 0; i < LOAD_WARMUP_COUNT; i++)
		load_mix(i);
	before = load_rss_kb(pid);
	for (size_t k = 0; k < LOAD_KIND_COUNT; k++)
		load_kinds[k].sent = load_kinds[k].wrong = 0;
	for (long i = 0; i < count; i++)
		load_mix(i);
	after = load_rss_kb(pid);
	printf("rss_before_kb=%ld rss_after_kb=%ld requests=%ld\n", before,
	    after, count);
	for (size_t k = 0; k < LOAD_KIND_COUNT; k++)
		printf("  %-14s sent=%-5ld want=%ld unexpected=%ld%s\n",
		    load_kinds[k].name, load_kinds[k].sent, load_kinds[k].want,
		    load_kinds[k].wrong,
		    load_kinds[k].wrong > 0 && !load_kinds[k].strict
		        ? " (not checked here)"
		        : "");
	curl_easy_cleanup(load_curl);
	curl_global_cleanup();
	return load_fail == 0 ? 0 : 1;
}
