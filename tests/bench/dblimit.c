/*
 * The benchmark's database limit: the app's own transfer transaction
 * (ledger_run(), the very statements and fee sub-account design of
 * POST /transfer) run straight on the MariaDB socket, with no HTTP and no
 * FastCGI in front. N processes, one connection each, for a fixed time.
 *
 * Usage: bench-dblimit -c payd.conf -n conns -t seconds
 *            -s sender_min -S sender_max -r to_min -R to_max [-x]
 *
 * Senders are user ids in [sender_min, sender_max], recipients user ids in
 * [to_min, to_max] (never the sender). -x adds the read that the service
 * does before the transaction on every request: the caller's row
 * (auth_check). A "to_id" needs no lookup (h_transfer).
 *
 * -P runs the experiment of tests/bench/proc.sql instead: the same
 * transaction as one stored procedure call, one round trip per transfer
 * (the bench loads the procedure; the app does not use it).
 *
 * Prints one line in the wrk scripts' format:
 *   RESULT requests= duration_s= rps= p50_ms= p90_ms= p99_ms= max_ms=
 *          non2xx= errors=
 * where non2xx counts answers other than 201 (422 and 5xx) and errors the
 * processes that could not connect.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mysqld_error.h>

#include "bounds.h"
#include "config.h"
#include "db.h"
#include "handler.h"
#include "ledger.h"
#include "log.h"
#include "money.h"
#include "util.h"

/* Latency samples kept in all, shared by the processes (4 bytes each). */
#define DBLIMIT_SAMPLE_COUNT_MAX (4 * 1024 * 1024)
/* One connection per process, as many as the wrk runs use at most. */
#define DBLIMIT_CONN_COUNT_MAX 1024
/* The amount of every transfer, as the wrk script sends: 1.00. */
#define DBLIMIT_AMOUNT_MINOR 100

/* What the processes share: the start instant and their counts. */
struct dblimit_shared {
	int64_t t0_us;
	int64_t end_us[DBLIMIT_CONN_COUNT_MAX];
	uint64_t ok[DBLIMIT_CONN_COUNT_MAX];
	uint64_t refused[DBLIMIT_CONN_COUNT_MAX];
	uint64_t failed[DBLIMIT_CONN_COUNT_MAX];
	uint32_t nsamples[DBLIMIT_CONN_COUNT_MAX];
};

struct dblimit_args {
	const char *config;
	int conns;
	int seconds;
	int64_t sender_min, sender_max, to_min, to_max;
	bool full;
	bool proc;
};

static void dblimit_usage(void);
static int64_t dblimit_arg(const char *text, int64_t min, int64_t max);
static int64_t dblimit_pick(int64_t min, int64_t max);
static int dblimit_transfer(
    struct ctx *ctx, const struct dblimit_args *a, char *resp_store);
static int dblimit_proc(
    struct ctx *ctx, const struct dblimit_args *a, MYSQL_STMT *st);
static void dblimit_child(int slot, const struct dblimit_args *a,
    struct dblimit_shared *sh, uint32_t *samples, uint32_t cap, int ready_fd,
    int go_fd);
static int dblimit_cmp(const void *a, const void *b);
static void dblimit_report(const struct dblimit_args *a,
    struct dblimit_shared *sh, uint32_t *samples, uint32_t cap, int failed);

static void
dblimit_usage(void)
{
	(void)fprintf(stderr,
	    "usage: bench-dblimit -c config -n conns "
	    "-t seconds -s sender_min -S sender_max -r to_min -R to_max "
	    "[-x | -P]\n");
	exit(2);
}

static int64_t
dblimit_arg(const char *text, int64_t min, int64_t max)
{
	long long v;

	if (util_parse_ll(text, min, max, &v) != 0)
		dblimit_usage();
	return (int64_t)v;
}

/* A uniform pick in [min, max]; the modulo bias over 2^64 is nil here. */
static int64_t
dblimit_pick(int64_t min, int64_t max)
{
	uint64_t r = 0;

	assert(max >= min);
	if (util_random(&r, sizeof(r)) != 0)
		r = (uint64_t)util_now_us() * 0x9e3779b97f4a7c15ULL;
	return min + (int64_t)(r % (uint64_t)(max - min + 1));
}

/*
 * One transfer as h_transfer() runs it once the request is read: the
 * op, the fee of the configuration, then ledger_run(). Returns the status.
 */
static int
dblimit_transfer(
    struct ctx *ctx, const struct dblimit_args *a, char *resp_store)
{
	struct http_resp *resp = ctx->resp;
	struct ledger_op op;
	int n;

	http_resp_init(resp, resp_store, HTTP_RESPONSE_SIZE_MAX);
	memset(&op, 0, sizeof(op));
	op.kind = LEDGER_TRANSFER;
	op.amount_minor = DBLIMIT_AMOUNT_MINOR;
	ctx->user_id = dblimit_pick(a->sender_min, a->sender_max);
	do
		op.to_id = dblimit_pick(a->to_min, a->to_max);
	while (op.to_id == ctx->user_id);
	if (money_fee(op.amount_minor, ctx->cfg->fee_fixed_minor,
	        ctx->cfg->fee_bps, &op.fee_minor) != MONEY_OK)
		fatal("dblimit: fee overflowed");
	n = snprintf(op.canon, sizeof(op.canon),
	    "transfer|to_id=%" PRId64 "|%" PRId64, op.to_id, op.amount_minor);
	assert(n > 0 && (size_t)n < sizeof(op.canon));
	(void)snprintf(ctx->username, sizeof(ctx->username), "bench");
	(void)snprintf(op.to_name, sizeof(op.to_name), "bench");
	if (a->full) {
		/* auth_check's read, as the service does. */
		char created[32];
		struct db_val in[] = {DB_I64_IN(ctx->user_id)};
		struct db_val out[] = {DB_STR_OUT(ctx->username), DB_I64_OUT(),
		    DB_STR_OUT(created)};

		if (db_ensure(ctx->db) != DB_OK ||
		    db_row(ctx->db, STMT_USER_GET, in, 1, out, 3) != DB_OK)
			return 503;
	}
	ledger_run(ctx, &op);
	assert(!ctx->db->in_txn);
	return resp->status;
}

/*
 * The experiment: CALL bench_transfer(...) on the raw connection, one
 * round trip. A deadlock or lock wait is retried like ledger_run() does.
 * Returns 201, 422 when nothing moved, or 503.
 */
static int
dblimit_proc(struct ctx *ctx, const struct dblimit_args *a, MYSQL_STMT *st)
{
	int64_t v[6] = {0}, in[6], fee = 0;
	MYSQL_BIND pb[7], rb[6];
	char name[LEDGER_NAME_SIZE_MAX], at[32];
	unsigned long at_len, name_len = 0;
	my_bool nul[6];
	unsigned char r = 0;
	struct tm tm;
	time_t now = time(NULL);
	int status = 503;

	in[0] = ctx->user_id = dblimit_pick(a->sender_min, a->sender_max);
	do
		in[1] = dblimit_pick(a->to_min, a->to_max);
	while (in[1] == in[0]);
	if (money_fee(DBLIMIT_AMOUNT_MINOR, ctx->cfg->fee_fixed_minor,
	        ctx->cfg->fee_bps, &fee) != MONEY_OK)
		fatal("dblimit: fee overflowed");
	in[2] = DBLIMIT_AMOUNT_MINOR;
	in[3] = fee;
	in[4] = MONEY_BALANCE_MAX_MINOR - DBLIMIT_AMOUNT_MINOR;
	(void)util_random(&r, sizeof(r));
	in[5] = r % DB_FEE_ACCOUNT_COUNT;
	(void)gmtime_r(&now, &tm);
	at_len = strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S", &tm);
	memset(pb, 0, sizeof(pb));
	for (int i = 0; i < 6; i++) {
		pb[i].buffer_type = MYSQL_TYPE_LONGLONG;
		pb[i].buffer = &in[i];
	}
	pb[6].buffer_type = MYSQL_TYPE_STRING;
	pb[6].buffer = at;
	pb[6].buffer_length = at_len;
	pb[6].length = &at_len;
	memset(rb, 0, sizeof(rb));
	for (int i = 0; i < 6; i++) {
		rb[i].buffer_type = MYSQL_TYPE_LONGLONG;
		rb[i].buffer = &v[i];
		rb[i].is_null = &nul[i];
	}
	rb[3].buffer_type = MYSQL_TYPE_STRING;
	rb[3].buffer = name;
	rb[3].buffer_length = sizeof(name) - 1;
	rb[3].length = &name_len;
	for (unsigned attempt = 1; attempt <= DB_RETRY_COUNT_MAX; attempt++) {
		unsigned err;

		if (mysql_stmt_bind_param(st, pb) != 0 ||
		    mysql_stmt_execute(st) != 0) {
			err = mysql_stmt_errno(st);
			if (err == ER_LOCK_DEADLOCK ||
			    err == ER_LOCK_WAIT_TIMEOUT) {
				db_retry_sleep(attempt);
				continue;
			}
			fatal("dblimit: CALL: %s", mysql_stmt_error(st));
		}
		if (mysql_stmt_bind_result(st, rb) != 0 ||
		    mysql_stmt_fetch(st) != 0)
			fatal("dblimit: CALL result: %s", mysql_stmt_error(st));
		status = v[0] == 1 && v[1] == 1 ? 201 : 422;
		(void)mysql_stmt_free_result(st);
		/* The CALL's own status comes last. */
		while (mysql_stmt_next_result(st) == 0)
			(void)mysql_stmt_free_result(st);
		break;
	}
	return status;
}

static void
dblimit_child(int slot, const struct dblimit_args *a, struct dblimit_shared *sh,
    uint32_t *samples, uint32_t cap, int ready_fd, int go_fd)
{
	static struct config cfg;
	struct http_req req;
	struct http_resp resp;
	struct ctx ctx;
	struct db db;
	char err[256], c;
	char *resp_store = malloc(HTTP_RESPONSE_SIZE_MAX);
	MYSQL_STMT *proc_st = NULL;
	int64_t deadline, now;

	config_defaults(&cfg);
	if (config_load(&cfg, a->config, err, sizeof(err)) != 0)
		fatal("config: %s", err);
	log_init(cfg.log_level);
	if (resp_store == NULL)
		fatal("dblimit: malloc: %s", strerror(errno));
	db_init(&db, &cfg);
	c = db_ensure(&db) == DB_OK ? 'R' : 'F';
	if (c == 'R' && a->proc) {
		static const char call[] =
		    "CALL bench_transfer(?, ?, ?, ?, ?, ?, ?)";

		proc_st = mysql_stmt_init(db.conn);
		if (proc_st == NULL ||
		    mysql_stmt_prepare(proc_st, call, sizeof(call) - 1) != 0) {
			log_event(LOG_ERROR, "dblimit", "prepare CALL: %s",
			    proc_st != NULL ? mysql_stmt_error(proc_st) : "?");
			c = 'F';
		}
	}
	(void)!write(ready_fd, &c, 1);
	if (c == 'F')
		_exit(1);
	/* The parent closes go_fd's other end to start everyone at once. */
	while (read(go_fd, &c, 1) < 0 && errno == EINTR)
		;
	memset(&ctx, 0, sizeof(ctx));
	memset(&req, 0, sizeof(req));
	ctx.cfg = &cfg;
	ctx.db = &db;
	ctx.req = &req;
	ctx.resp = &resp;
	ctx.route = "dblimit";
	deadline = sh->t0_us + (int64_t)a->seconds * 1000000;
	for (now = util_now_us(); now < deadline;) {
		int64_t start = now;
		int status = a->proc ? dblimit_proc(&ctx, a, proc_st)
		                     : dblimit_transfer(&ctx, a, resp_store);

		now = util_now_us();
		if (status == 201)
			sh->ok[slot]++;
		else if (status == 422)
			sh->refused[slot]++;
		else
			sh->failed[slot]++;
		if (sh->nsamples[slot] < cap)
			samples[sh->nsamples[slot]++] = (uint32_t)(now - start);
	}
	sh->end_us[slot] = now;
	if (proc_st != NULL)
		(void)mysql_stmt_close(proc_st);
	db_close(&db);
	free(resp_store);
	_exit(0);
}

static int
dblimit_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static void
dblimit_report(const struct dblimit_args *a, struct dblimit_shared *sh,
    uint32_t *samples, uint32_t cap, int failed)
{
	uint64_t ok = 0, refused = 0, bad = 0, n = 0;
	int64_t end = sh->t0_us;
	double dur_s, p[3];
	static const double pct[3] = {0.50, 0.90, 0.99};

	/* Pack every process's samples together, then sort them once. */
	for (int i = 0; i < a->conns; i++) {
		ok += sh->ok[i];
		refused += sh->refused[i];
		bad += sh->failed[i];
		if (sh->end_us[i] > end)
			end = sh->end_us[i];
		memmove(samples + n, samples + (size_t)i * cap,
		    sh->nsamples[i] * sizeof(*samples));
		n += sh->nsamples[i];
	}
	assert(n <= (uint64_t)cap * (uint64_t)a->conns);
	qsort(samples, n, sizeof(*samples), dblimit_cmp);
	for (int k = 0; k < 3; k++)
		p[k] = n > 0 ? samples[(size_t)(pct[k] * (double)(n - 1))] / 1e3
		             : 0;
	dur_s = (double)(end - sh->t0_us) / 1e6;
	(void)printf(
	    "RESULT requests=%" PRIu64 " duration_s=%.2f rps=%.1f "
	    "p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%" PRIu64
	    " errors=%d statuses=201:%" PRIu64 ",422:%" PRIu64 ",other:%" PRIu64
	    "\n",
	    ok + refused + bad, dur_s,
	    dur_s > 0 ? (double)(ok + refused + bad) / dur_s : 0, p[0], p[1],
	    p[2], n > 0 ? samples[n - 1] / 1e3 : 0, refused + bad, failed, ok,
	    refused, bad);
}

int
main(int argc, char *argv[])
{
	struct dblimit_args a = {.conns = 1, .seconds = 5};
	struct dblimit_shared *sh;
	uint32_t *samples, cap;
	int ch, ready[2], go[2], failed = 0, started = 0;

	while ((ch = getopt(argc, argv, "c:n:t:s:S:r:R:xP")) != -1) {
		switch (ch) {
		case 'c':
			a.config = optarg;
			break;
		case 'n':
			a.conns =
			    (int)dblimit_arg(optarg, 1, DBLIMIT_CONN_COUNT_MAX);
			break;
		case 't':
			a.seconds = (int)dblimit_arg(optarg, 1, 3600);
			break;
		case 's':
			a.sender_min = dblimit_arg(optarg, 1, INT64_MAX);
			break;
		case 'S':
			a.sender_max = dblimit_arg(optarg, 1, INT64_MAX);
			break;
		case 'r':
			a.to_min = dblimit_arg(optarg, 1, INT64_MAX);
			break;
		case 'R':
			a.to_max = dblimit_arg(optarg, 1, INT64_MAX);
			break;
		case 'x':
			a.full = true;
			break;
		case 'P':
			a.proc = true;
			break;
		default:
			dblimit_usage();
		}
	}
	if (a.config == NULL || optind != argc || a.sender_min == 0 ||
	    a.sender_max < a.sender_min || a.to_min == 0 ||
	    a.to_max < a.to_min ||
	    (a.to_min == a.to_max && a.sender_min == a.sender_max &&
	        a.to_min == a.sender_min))
		dblimit_usage();
	cap = DBLIMIT_SAMPLE_COUNT_MAX / (uint32_t)a.conns;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	samples =
	    mmap(NULL, (size_t)DBLIMIT_SAMPLE_COUNT_MAX * sizeof(uint32_t),
	        PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || samples == MAP_FAILED)
		fatal("dblimit: mmap: %s", strerror(errno));
	if (pipe(ready) != 0 || pipe(go) != 0)
		fatal("dblimit: pipe: %s", strerror(errno));
	(void)fflush(NULL);
	for (int i = 0; i < a.conns; i++) {
		pid_t pid = fork();

		if (pid < 0)
			fatal("dblimit: fork: %s", strerror(errno));
		if (pid == 0) {
			(void)close(ready[0]);
			(void)close(go[1]);
			dblimit_child(i, &a, sh, samples + (size_t)i * cap, cap,
			    ready[1], go[0]);
		}
	}
	(void)close(ready[1]);
	(void)close(go[0]);
	/* Every process connected (or failed) before the clock starts. */
	for (int i = 0; i < a.conns; i++) {
		char c;

		if (read(ready[0], &c, 1) != 1)
			fatal("dblimit: a process died before it was ready");
		if (c == 'R')
			started++;
		else
			failed++;
	}
	sh->t0_us = util_now_us();
	(void)close(go[1]);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	dblimit_report(&a, sh, samples, cap, failed);
	return failed > 0 || started == 0 ? 1 : 0;
}
