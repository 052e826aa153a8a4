/*
 * The worker process: one database connection, statements prepared once,
 * fixed request buffers, and the accept loop, which takes the requests
 * that wait for it in small batches when they are reads of the caller's
 * row or transfers.
 */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "auth.h"
#include "bounds.h"
#include "db.h"
#include "handler.h"
#include "http.h"
#include "idem.h"
#include "log.h"
#include "metrics.h"
#include "password.h"
#include "router.h"
#include "util.h"
#include "worker.h"

/* A failed accept (not EAGAIN) waits this long: no busy loop. */
static const struct timespec worker_accept_pause = {0, 10 * 1000 * 1000};

static volatile sig_atomic_t worker_stop;
static volatile sig_atomic_t worker_reopen;

/* What a worker runs for a request; see worker.h. */
struct worker_app worker_app = {
    .route = router_route,
    .load = router_load,
    .run = router_run,
    .names = router_names,
    .uses_db = true,
};

/* One request of a batch, with its own buffers. */
struct worker_slot {
	FCGX_Request fcgx;
	struct http_req req;
	struct http_resp resp;
	struct ctx ctx;
	char *body_store; /* HTTP_BATCH_BODY_SIZE_MAX + 1 */
	char *resp_store; /* HTTP_RESPONSE_SIZE_MAX */
	bool answered;    /* unreadable: answered before any route */
	bool ended;       /* answered and closed (worker_end) */
	int64_t start_us;
};

/* Long-lived state, allocated once at start-up. */
struct worker {
	const struct config *cfg;
	struct db db;
	struct worker_slot *slot; /* WORKER_BATCH_MAX */
	int epoll_fd;             /* the listening socket, EPOLLEXCLUSIVE */
	bool plain_close;         /* a unix socket: close without lingering */
	int64_t next_purge_ms;
};

static void worker_on_term(int sig);
static void worker_on_usr1(int sig);
static void worker_signals(sigset_t *wait_mask);
static int worker_epoll(int listen_fd);
static bool worker_is_unix(int listen_fd);
static bool worker_wait(const struct worker *w, const sigset_t *mask);
static unsigned worker_begin(struct worker *w, struct worker_slot *s);
static size_t worker_take(struct worker *w);
static int64_t worker_deadline(
    const struct worker *w, const struct http_req *req);
static bool worker_settled(const struct worker_slot *s);
static void worker_end(struct worker *w, struct worker_slot *s, size_t n);
static void worker_answer(struct worker *w, size_t n);
static void worker_log_request(
    const struct ctx *ctx, int64_t dur_ms, size_t batch);
static void worker_purge(struct worker *w);

static void
worker_on_term(int sig)
{
	(void)sig;
	worker_stop = 1;
}

/* The master forwards SIGUSR1 after logrotate: reopen between requests. */
static void
worker_on_usr1(int sig)
{
	(void)sig;
	worker_reopen = 1;
}

/*
 * SIGTERM, SIGINT and SIGUSR1 stay blocked while a request is served, so no
 * system call of a request is ever interrupted; they are let through only
 * inside epoll_pwait(2) on the listening socket, where the loop then ends
 * (SIGTERM, SIGINT) or reopens the log file (SIGUSR1).
 */
static void
worker_signals(sigset_t *wait_mask)
{
	struct sigaction sa;
	sigset_t term;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_term;
	sa.sa_flags = SA_RESTART;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = worker_on_usr1;
	(void)sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGCHLD, &sa, NULL);
	(void)sigemptyset(&term);
	(void)sigaddset(&term, SIGTERM);
	(void)sigaddset(&term, SIGINT);
	/* A log reopen waits too: poll(2) in the client is never restarted. */
	(void)sigaddset(&term, SIGUSR1);
	(void)sigprocmask(SIG_SETMASK, &term, NULL);
	(void)sigemptyset(wait_mask);
}

/*
 * The listening socket is non-blocking and shared by every worker. Each
 * worker waits on it through its own epoll instance with EPOLLEXCLUSIVE,
 * so that a new connection wakes one idle worker rather than all of them
 * (with ppoll(2) every idle worker woke, and all but one then got EAGAIN
 * from accept: a context switch per idle worker per request, which costs
 * much on 2 vCPUs). A worker that still loses the race for a connection
 * gets EAGAIN and comes back to wait.
 */
static int
worker_epoll(int listen_fd)
{
	struct epoll_event ev;
	int fd = epoll_create1(EPOLL_CLOEXEC);

	if (fd < 0)
		fatal("worker: epoll_create1: %s", strerror(errno));
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.fd = listen_fd;
	if (epoll_ctl(fd, EPOLL_CTL_ADD, listen_fd, &ev) != 0)
		fatal("worker: epoll_ctl: %s", strerror(errno));
	return fd;
}

/*
 * libfcgi ends a connection with a lingering close: shutdown(SHUT_WR), then
 * it waits (up to 2 s) until nginx has read the answer and closed its end,
 * and only then takes the next request. On a unix socket that wait buys
 * nothing: what was written is read by nginx whatever happens to our end,
 * and an unread byte left behind (none is: the request is read whole) only
 * makes nginx's next read, after FCGI_END_REQUEST, fail instead of see
 * EOF. It cost a context switch and a stalled worker per request (make
 * bench: GET /balance +50 % with 2 workers). Over TCP, where a close with
 * unread data sends a reset that can destroy the answer in flight, the
 * lingering close stays.
 */
static bool
worker_is_unix(int listen_fd)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	memset(&sa, 0, sizeof(sa));
	if (getsockname(listen_fd, (struct sockaddr *)&sa, &len) != 0)
		return false;
	return sa.ss_family == AF_UNIX;
}

/*
 * Waits until a connection may be accepted, or a signal says stop: the
 * signal mask lets SIGTERM and SIGINT in only during epoll_pwait(2).
 */
static bool
worker_wait(const struct worker *w, const sigset_t *mask)
{
	struct epoll_event ev;

	if (w->slot[0].fcgx.ipcFd >= 0)
		return true; /* a kept-alive FastCGI connection */
	if (epoll_pwait(w->epoll_fd, &ev, 1, -1, mask) < 0)
		return false;
	return !worker_stop;
}

static void
worker_log_request(const struct ctx *ctx, int64_t dur_ms, size_t batch)
{
	char path[HTTP_PATH_SIZE_MAX + 16];
	char method[32];
	char user[USERNAME_LEN_MAX + 16];
	enum log_level level = LOG_INFO;

	if (ctx->resp->status >= 500)
		level = LOG_WARN;
	(void)log_quote(path, sizeof(path), ctx->req->path);
	(void)log_quote(method, sizeof(method), ctx->req->method_text);
	(void)log_quote(
	    user, sizeof(user), ctx->username[0] != '\0' ? ctx->username : "-");
	log_event(level, "request",
	    "method=%s path=%s route=%s status=%d "
	    "dur_ms=%lld user=%s uid=%lld err=%s batch=%zu",
	    method, path, ctx->route, ctx->resp->status, (long long)dur_ms,
	    user, (long long)ctx->user_id,
	    ctx->resp->err_code != NULL ? ctx->resp->err_code : "-", batch);
	if (dur_ms >= ctx->cfg->slow_request_ms)
		log_event(LOG_WARN, "slow_request",
		    "route=%s dur_ms=%lld "
		    "threshold_ms=%d",
		    ctx->route, (long long)dur_ms, ctx->cfg->slow_request_ms);
}

/* Keys past the retention go in small batches so no request waits long. */
static void
worker_purge(struct worker *w)
{
	int64_t now = util_now_ms();
	uint64_t gone = 0;

	if (now < w->next_purge_ms || !w->db.connected)
		return;
	w->next_purge_ms = now + WORKER_PURGE_INTERVAL_MS;
	if (idem_purge(&w->db, w->cfg->idempotency_ttl_s, &gone) == DB_OK &&
	    gone > 0)
		log_event(LOG_INFO, "idempotency_purge", "deleted=%llu",
		    (unsigned long long)gone);
}

/*
 * The request's deadline as util_now_ms() will read it: request_deadline_s
 * after nginx sent it on (REQUEST_START, on the wall clock, which nginx
 * and the app share), or after now when nginx did not say.
 */
static int64_t
worker_deadline(const struct worker *w, const struct http_req *req)
{
	int64_t age = 0;
	struct timespec ts;

	if (req->start_ms > 0 && clock_gettime(CLOCK_REALTIME, &ts) == 0) {
		age = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 -
		      req->start_ms;
		if (age < 0)
			age = 0; /* a clock step: count from now */
	}
	return util_now_ms() - age + (int64_t)w->cfg->request_deadline_s * 1000;
}

/*
 * The first half of a request just accepted: read it, route it, check its
 * token. Returns the kind of batch it may join, 0 for none.
 */
static unsigned
worker_begin(struct worker *w, struct worker_slot *s)
{
	struct ctx *ctx = &s->ctx;
	enum api_err err = API_INTERNAL;
	unsigned kind = 0;

	s->start_us = util_now_us();
	memset(ctx, 0, sizeof(*ctx));
	ctx->cfg = w->cfg;
	ctx->db = &w->db;
	ctx->req = &s->req;
	ctx->resp = &s->resp;
	ctx->route = "-";
	http_resp_init(&s->resp, s->resp_store, HTTP_RESPONSE_SIZE_MAX);
	s->answered = http_read(&s->fcgx, &s->req, s->body_store, &err) != 0;
	log_set_req_id(s->req.req_id);
	ctx->deadline_ms = worker_deadline(w, &s->req);
	s->ended = false;
	if (s->answered)
		http_error(&s->resp, err, NULL);
	else
		kind = worker_app.route(ctx);
	log_set_req_id(NULL);
	return kind;
}

/*
 * Accepts a batch: the first request, and then, as long as each one is of
 * the first one's kind (reads of the caller's row, or transfers), the next
 * connections already waiting on the listening socket, up to
 * WORKER_BATCH_MAX (accept never blocks: the socket is non-blocking).
 * load() then serves them with one statement instead of one each (their
 * callers read at once, or their transfers in one transaction): under
 * load, one database round trip, one commit, and one sleep and wake-up of
 * this worker, serve up to WORKER_BATCH_MAX requests. A request of any
 * other kind ends the batch and is served right after it, so it waits
 * for one batch at most. Nothing waits for a batch to fill: only
 * connections already waiting are taken. Only the first slot may have a
 * FastCGI connection that nginx keeps open (fastcgi_keep_conn, not
 * shipped): the batch stays one request then.
 * Returns the number taken, 0 for none.
 */
static size_t
worker_take(struct worker *w)
{
	struct ctx *waiting[WORKER_BATCH_MAX];
	size_t n = 0;
	size_t nwait = 0;
	unsigned first = 0;

	while (n < WORKER_BATCH_MAX) {
		struct worker_slot *s = &w->slot[n];
		unsigned kind;

		if (FCGX_Accept_r(&s->fcgx) < 0) {
			if (n == 0 && errno != EAGAIN && errno != EWOULDBLOCK)
				(void)nanosleep(&worker_accept_pause, NULL);
			break;
		}
		n++;
		kind = worker_begin(w, s);
		if (n == 1)
			first = kind;
		if (kind == 0 || kind != first)
			break;
		waiting[nwait++] = &s->ctx;
		/* nginx keeps its connections (FCGI_KEEP_CONN): no batch. */
		if (w->slot[0].fcgx.keepConnection)
			break;
	}
	if (worker_app.load != NULL)
		worker_app.load(waiting, nwait);
	return n;
}

/* Answered already, or by run() without the database (ctx.settled). */
static bool
worker_settled(const struct worker_slot *s)
{
	return s->answered || s->ctx.hit == NULL || s->ctx.settled;
}

/*
 * The second half: run the route (503 without the database past the
 * request's deadline), answer, log, close.
 */
static void
worker_end(struct worker *w, struct worker_slot *s, size_t n)
{
	struct ctx *ctx = &s->ctx;
	int64_t dur_us;

	log_set_req_id(s->req.req_id);
	s->ended = true;
	if (!worker_settled(s) && !handler_in_time(ctx, 0)) {
		log_event(LOG_WARN, "deadline_passed", "route=%s stage=queue",
		    ctx->route);
		http_error(ctx->resp, API_UNAVAILABLE, NULL);
	} else if (!s->answered) {
		worker_app.run(ctx);
	}
	if (w->db.in_txn) {
		/* A handler left a transaction open: a bug, not a request. */
		log_event(LOG_ERROR, "txn_left_open", "route=%s", ctx->route);
		db_txn_rollback(&w->db);
	}
	http_write(&s->fcgx, &s->req, &s->resp);
	dur_us = util_now_us() - s->start_us;
	metrics_request(ctx->route, s->resp.status, dur_us);
	worker_log_request(ctx, dur_us / 1000, n);
	log_set_req_id(NULL);
	explicit_bzero(s->body_store, s->req.body_len);
	/* A detached request is closed with a plain close(2). */
	if (w->plain_close)
		(void)FCGX_Detach(&s->fcgx);
	FCGX_Finish_r(&s->fcgx);
	/*
	 * A large answer's pages go back: RSS keeps no statement's size. So
	 * do the heap's free pages after a large request or answer (a batch's
	 * 1000 JSON objects are about 1 MiB of small blocks, freed by now,
	 * which malloc would otherwise keep).
	 */
	if (s->resp.body.len > HTTP_RESPONSE_KEEP_SIZE)
		util_release_tail(s->resp_store, HTTP_RESPONSE_SIZE_MAX,
		    HTTP_RESPONSE_KEEP_SIZE);
	if (s->resp.body.len > HTTP_RESPONSE_KEEP_SIZE ||
	    s->req.body_len > HTTP_BODY_SIZE_MAX)
		(void)malloc_trim(0);
	/* Only the first slot keeps a connection (worker_wait serves it). */
	if (s != &w->slot[0] && s->fcgx.ipcFd >= 0)
		FCGX_Free(&s->fcgx, 1);
}

/*
 * Answers the n requests taken: first those whose answer is final (a
 * batch's results, 400, 401, 404), so that none of them waits behind
 * another's database work and nginx's timeout; then the others in order,
 * each within its own deadline.
 */
static void
worker_answer(struct worker *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (worker_settled(&w->slot[i]))
			worker_end(w, &w->slot[i], n);
	for (size_t i = 0; i < n; i++)
		if (!w->slot[i].ended)
			worker_end(w, &w->slot[i], n);
}

/*
 * On SIGTERM, before the exit: the requests already queued on the
 * listening socket are served, since nginx would not send a POST it had
 * sent to another instance. On a stop the master has unlinked the
 * socket's path first, so the queue only shrinks; after a reload the new
 * workers share it, and the first empty look ends this.
 */
static void
worker_drain(struct worker *w)
{
	size_t n, served = 0;

	while ((n = worker_take(w)) > 0) {
		worker_answer(w, n);
		served += n;
	}
	if (served > 0)
		log_event(LOG_INFO, "worker_drain", "served=%zu", served);
}

int
worker_run(const struct config *cfg, int listen_fd, int ready_fd)
{
	struct worker w;
	sigset_t wait_mask;
	size_t n;

	memset(&w, 0, sizeof(w));
	w.cfg = cfg;
	worker_signals(&wait_mask);
	w.slot = calloc(WORKER_BATCH_MAX, sizeof(*w.slot));
	if (w.slot == NULL)
		fatal("worker: calloc: %s", strerror(errno));
	if (FCGX_Init() != 0)
		fatal("worker: FCGX_Init failed");
	worker_signals(&wait_mask); /* FCGX_Init installs its own handlers */
	for (size_t i = 0; i < WORKER_BATCH_MAX; i++) {
		struct worker_slot *s = &w.slot[i];

		s->body_store = malloc(HTTP_BATCH_BODY_SIZE_MAX + 1);
		s->resp_store = malloc(HTTP_RESPONSE_SIZE_MAX);
		if (s->body_store == NULL || s->resp_store == NULL)
			fatal("worker: malloc: %s", strerror(errno));
		if (FCGX_InitRequest(&s->fcgx, listen_fd, 0) != 0)
			fatal("worker: FCGX_InitRequest failed");
	}
	w.epoll_fd = worker_epoll(listen_fd);
	w.plain_close = worker_is_unix(listen_fd);
	db_init(&w.db, cfg);
	if (worker_app.uses_db) {
		(void)db_ensure(&w.db);
		/* The dummy hash for unknown users, once, before any request.
		 */
		if (password_init() != 0)
			log_event(LOG_ERROR, "password_init", "failed=1");
	}
	log_event(
	    LOG_INFO, "worker_ready", "db=%s", w.db.connected ? "up" : "down");
	if (ready_fd >= 0) {
		(void)!write(ready_fd, "R", 1);
		(void)close(ready_fd);
	}
	while (!worker_stop) {
		if (worker_reopen) {
			worker_reopen = 0;
			if (log_reopen() != 0)
				log_event(LOG_ERROR, "log_reopen",
				    "error=\"%s\"", strerror(errno));
		}
		if (!worker_wait(&w, &wait_mask))
			continue;
		n = worker_take(&w);
		worker_answer(&w, n);
		if (n > 0)
			worker_purge(&w);
	}
	worker_drain(&w);
	(void)close(w.epoll_fd);
	db_close(&w.db);
	for (size_t i = 0; i < WORKER_BATCH_MAX; i++) {
		FCGX_Free(&w.slot[i].fcgx, 0);
		free(w.slot[i].body_store);
		free(w.slot[i].resp_store);
	}
	free(w.slot);
	log_event(LOG_INFO, "worker_exit", "reason=signal");
	return 0;
}
