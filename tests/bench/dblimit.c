/*
 * The benchmark's database limit: the app's own transfer transaction
 * (the ledger core's ledger_move(), the very statements and fee
 * sub-account design of POST /transfer) run straight on the MariaDB
 * socket, with no HTTP and no FastCGI in front. N processes, one
 * connection each, for a fixed time.
 *
 * Usage: bench-dblimit -c payd.conf -n conns -t seconds
 *            -s sender_min -S sender_max -r to_min -R to_max [-b batch]
 *
 * With -b K (2 to WORKER_BATCH_MAX) each process runs its transfers K at a
 * time in one transaction, as a worker does with the transfers it takes
 * together (ledger_transfer_batch(), CALL payd_transfer_many): what the
 * database gives the app's batches, with no HTTP. Each transfer's latency
 * is its batch's.
 *
 * Senders are user ids in [sender_min, sender_max], recipients user ids in
 * [to_min, to_max] (never the sender). The app's CALL checks the caller's
 * row against the token's name (sql/R__payd_transfer.sql), so the senders'
 * names are read once before the run, as the tokens of the wrk run carry them.
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
#include <unistd.h>

#include "bounds.h"
#include "config.h"
#include "db.h"
#include "ledger.h"
#include "ledger_batch.h"
#include "log.h"
#include "money.h"
#include "util.h"

/* Latency samples kept in all, shared by the processes (4 bytes each). */
#define DBLIMIT_SAMPLE_COUNT_MAX (4 * 1024 * 1024)
/* One connection per process, as many as the wrk runs use at most. */
#define DBLIMIT_CONN_COUNT_MAX 1024
/* The amount of every transfer, as the wrk script sends: 1.00. */
#define DBLIMIT_AMOUNT_MINOR 100
/* The amount of each transfer of a payout, as tests/bench/batch.lua. */
#define DBLIMIT_PAYOUT_AMOUNT_MINOR 1
/* Senders whose names are kept (USERNAME_LEN_MAX + 1 bytes each). */
#define DBLIMIT_SENDER_COUNT_MAX 1000000

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
	int batch;  /* transfers a CALL: 1, or 2 to WORKER_BATCH_MAX */
	int payout; /* 0, or the items of a CALL payd_payout (-P) */
	int64_t sender_min, sender_max, to_min, to_max;
	char (*names)[USERNAME_LEN_MAX + 1]; /* by id - sender_min */
};

static void dblimit_usage(void);
static int64_t dblimit_arg(const char *text, int64_t min, int64_t max);
static int64_t dblimit_pick(int64_t min, int64_t max);
static void dblimit_draw(struct ledger_req *req, const struct config *cfg,
    const struct dblimit_args *a);
static void dblimit_load_names(struct dblimit_args *a);
static void dblimit_child(int slot, const struct dblimit_args *a,
    struct dblimit_shared *sh, uint32_t *samples, uint32_t cap, int ready_fd,
    int go_fd);
static void dblimit_payout(int slot, const struct dblimit_args *a,
    struct dblimit_shared *sh, uint32_t *samples, uint32_t cap, struct db *db,
    const struct config *cfg, int64_t deadline);
static int dblimit_cmp(const void *a, const void *b);
static void dblimit_report(const struct dblimit_args *a,
    struct dblimit_shared *sh, uint32_t *samples, uint32_t cap, int failed);

static void
dblimit_usage(void)
{
	(void)fprintf(stderr,
	    "usage: bench-dblimit -c config -n conns "
	    "-t seconds -s sender_min -S sender_max -r to_min -R to_max "
	    "[-b batch | -P payout_items]\n");
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
 * Draws one transfer of 1.00 into req: a random sender as the caller (what
 * auth_token() takes from a token) and a random recipient by id.
 */
static void
dblimit_draw(struct ledger_req *req, const struct config *cfg,
    const struct dblimit_args *a)
{
	int n;

	memset(req, 0, sizeof(*req));
	req->kind = LEDGER_TRANSFER;
	req->log_name = "dblimit";
	req->amount_minor = DBLIMIT_AMOUNT_MINOR;
	req->user_id = dblimit_pick(a->sender_min, a->sender_max);
	req->username = a->names[req->user_id - a->sender_min];
	do
		req->to_id = dblimit_pick(a->to_min, a->to_max);
	while (req->to_id == req->user_id);
	if (money_fee(req->amount_minor, cfg->fee_fixed_minor, cfg->fee_bps,
	        &req->fee_minor) != MONEY_OK)
		fatal("dblimit: fee overflowed");
	n = snprintf(req->canon, sizeof(req->canon),
	    "transfer|to_id=%" PRId64 "|%" PRId64, req->to_id,
	    req->amount_minor);
	assert(n > 0 && (size_t)n < sizeof(req->canon));
}

/*
 * Reads the senders' names once, in the parent: the children inherit them.
 * A sender id with no user keeps "", which the CALL answers with 401.
 */
static void
dblimit_load_names(struct dblimit_args *a)
{
	static const char sql[] =
	    "SELECT id, username FROM users WHERE id BETWEEN ? AND ?";
	static struct config cfg;
	char err[256], name[USERNAME_LEN_MAX + 1];
	int64_t range[2] = {a->sender_min, a->sender_max}, id = 0;
	unsigned long name_len = 0;
	MYSQL_BIND in[2], out[2];
	MYSQL_STMT *st;
	struct db db;
	int rc;

	if (a->sender_max - a->sender_min >= DBLIMIT_SENDER_COUNT_MAX)
		fatal(
		    "dblimit: more than %d senders", DBLIMIT_SENDER_COUNT_MAX);
	a->names = calloc(
	    (size_t)(a->sender_max - a->sender_min + 1), sizeof(*a->names));
	if (a->names == NULL)
		fatal("dblimit: calloc: %s", strerror(errno));
	config_defaults(&cfg);
	if (config_load(&cfg, a->config, err, sizeof(err)) != 0)
		fatal("config: %s", err);
	db_init(&db, &cfg);
	if (db_ensure(&db) != DB_OK)
		fatal("dblimit: cannot connect to the database");
	memset(in, 0, sizeof(in));
	memset(out, 0, sizeof(out));
	for (int i = 0; i < 2; i++) {
		in[i].buffer_type = MYSQL_TYPE_LONGLONG;
		in[i].buffer = &range[i];
	}
	out[0].buffer_type = MYSQL_TYPE_LONGLONG;
	out[0].buffer = &id;
	out[1].buffer_type = MYSQL_TYPE_STRING;
	out[1].buffer = name;
	out[1].buffer_length = sizeof(name) - 1;
	out[1].length = &name_len;
	st = mysql_stmt_init(db.conn);
	if (st == NULL || mysql_stmt_prepare(st, sql, sizeof(sql) - 1) != 0 ||
	    mysql_stmt_bind_param(st, in) != 0 || mysql_stmt_execute(st) != 0 ||
	    mysql_stmt_bind_result(st, out) != 0)
		fatal("dblimit: reading the names: %s",
		    st != NULL ? mysql_stmt_error(st) : "no memory");
	while ((rc = mysql_stmt_fetch(st)) == 0) {
		assert(id >= a->sender_min && id <= a->sender_max);
		assert(name_len < sizeof(name));
		memcpy(a->names[id - a->sender_min], name, name_len);
	}
	/* A truncated name or an error must not end the list early. */
	if (rc != MYSQL_NO_DATA)
		fatal("dblimit: reading the names: fetch %d: %s", rc,
		    mysql_stmt_error(st));
	(void)mysql_stmt_close(st);
	db_close(&db);
}

static void
dblimit_child(int slot, const struct dblimit_args *a, struct dblimit_shared *sh,
    uint32_t *samples, uint32_t cap, int ready_fd, int go_fd)
{
	static struct config cfg;
	static struct ledger_req req[WORKER_BATCH_MAX];
	static struct ledger_res res[WORKER_BATCH_MAX];
	const struct ledger_req *reqs[WORKER_BATCH_MAX];
	struct db db;
	char err[256], c;
	int64_t deadline, now;

	config_defaults(&cfg);
	if (config_load(&cfg, a->config, err, sizeof(err)) != 0)
		fatal("config: %s", err);
	log_init(cfg.log_level);
	db_init(&db, &cfg);
	for (int k = 0; k < a->batch; k++)
		reqs[k] = &req[k];
	c = db_ensure(&db) == DB_OK ? 'R' : 'F';
	(void)!write(ready_fd, &c, 1);
	if (c == 'F')
		_exit(1);
	/* The parent closes go_fd's other end to start everyone at once. */
	while (read(go_fd, &c, 1) < 0 && errno == EINTR)
		;
	deadline = sh->t0_us + (int64_t)a->seconds * 1000000;
	if (a->payout > 0) {
		dblimit_payout(slot, a, sh, samples, cap, &db, &cfg, deadline);
		db_close(&db);
		_exit(0);
	}
	for (now = util_now_us(); now < deadline;) {
		int64_t start = now;

		for (int k = 0; k < a->batch; k++)
			dblimit_draw(&req[k], &cfg, a);
		/* A batch rolled back on a deadlock: each on its own. */
		if (a->batch == 1 ||
		    !ledger_transfer_batch(&db, reqs, res, (size_t)a->batch))
			for (int k = 0; k < a->batch; k++)
				ledger_move(&db, &req[k], &res[k]);
		assert(!db.in_txn);
		now = util_now_us();
		for (int k = 0; k < a->batch; k++) {
			if (res[k].outcome == LEDGER_MOVED)
				sh->ok[slot]++;
			else if (res[k].outcome == LEDGER_NO_FUNDS ||
			         res[k].outcome == LEDGER_OVER_CAP)
				sh->refused[slot]++;
			else
				sh->failed[slot]++;
			if (sh->nsamples[slot] < cap)
				samples[sh->nsamples[slot]++] =
				    (uint32_t)(now - start);
		}
	}
	sh->end_us[slot] = now;
	db_close(&db);
	_exit(0);
}

/* The answer of a payout that moved: the bench has no use for it. */
static int
dblimit_render(void *arg, const struct ledger_batch_req *req,
    const struct ledger_batch_res *res, struct buf *body)
{
	(void)arg;
	(void)req;
	(void)res;
	buf_reset(body);
	(void)buf_puts(body, "{}");
	return 201;
}

/*
 * The payout loop of -P: one CALL payd_payout (ledger_batch_run, as POST
 * /transfers/batch runs it, atomic, no key) of a->payout transfers of 0.01
 * from a random sender to random recipients after another, until the
 * deadline. Counts transfers; one latency sample per CALL.
 */
static void
dblimit_payout(int slot, const struct dblimit_args *a,
    struct dblimit_shared *sh, uint32_t *samples, uint32_t cap, struct db *db,
    const struct config *cfg, int64_t deadline)
{
	static struct ledger_batch_item items[BATCH_ITEMS_MAX];
	static const char canon[] = "batch|dblimit";
	static char store[64];
	struct ledger_batch_req req;
	struct ledger_batch_res res;
	struct buf body;
	int64_t fee, now;

	if (money_fee(DBLIMIT_PAYOUT_AMOUNT_MINOR, cfg->fee_fixed_minor,
	        cfg->fee_bps, &fee) != MONEY_OK)
		fatal("dblimit: fee overflowed");
	buf_init(&body, store, sizeof(store));
	for (now = util_now_us(); now < deadline;) {
		int64_t start = now;
		enum ledger_batch_rc rc;

		memset(&req, 0, sizeof(req));
		req.user_id = dblimit_pick(a->sender_min, a->sender_max);
		req.username = a->names[req.user_id - a->sender_min];
		req.atomic = true;
		req.canon = canon;
		req.canon_len = sizeof(canon) - 1;
		req.items = items;
		req.n = (size_t)a->payout;
		for (size_t k = 0; k < req.n; k++) {
			memset(&items[k], 0, sizeof(items[k]));
			do
				items[k].to_id =
				    dblimit_pick(a->to_min, a->to_max);
			while (items[k].to_id == req.user_id);
			items[k].to_text = "";
			items[k].amount_minor = DBLIMIT_PAYOUT_AMOUNT_MINOR;
			items[k].fee_minor = fee;
		}
		rc = ledger_batch_run(
		    db, cfg, &req, &res, dblimit_render, NULL, &body);
		assert(!db->in_txn);
		now = util_now_us();
		if (rc == LEDGER_BATCH_DONE)
			sh->ok[slot] += req.n;
		else if (rc == LEDGER_BATCH_REJECTED)
			sh->refused[slot] += req.n;
		else
			sh->failed[slot] += req.n;
		if (sh->nsamples[slot] < cap)
			samples[sh->nsamples[slot]++] = (uint32_t)(now - start);
	}
	sh->end_us[slot] = now;
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
	struct dblimit_args a = {.conns = 1, .seconds = 5, .batch = 1};
	struct dblimit_shared *sh;
	uint32_t *samples, cap;
	int ch, ready[2], go[2], failed = 0, started = 0;

	while ((ch = getopt(argc, argv, "c:n:t:s:S:r:R:b:P:")) != -1) {
		switch (ch) {
		case 'P':
			a.payout = (int)dblimit_arg(optarg, 1, BATCH_ITEMS_MAX);
			break;
		case 'b':
			a.batch = (int)dblimit_arg(optarg, 1, WORKER_BATCH_MAX);
			break;
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
	dblimit_load_names(&a);
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
