/*
 * The hold sweeper's process: a tick every SWEEPER_TICK_MS, each one CALL
 * (ledger_hold_sweep), with its own database connection. A tick that finds
 * the database down logs it and tries again at the next.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "db.h"
#include "ledger_hold.h"
#include "log.h"
#include "sweeper.h"

static volatile sig_atomic_t sweeper_stop;
static volatile sig_atomic_t sweeper_reopen;

static void
sweeper_on_term(int sig)
{
	(void)sig;
	sweeper_stop = 1;
}

static void
sweeper_on_usr1(int sig)
{
	(void)sig;
	sweeper_reopen = 1;
}

/* SIGTERM and SIGINT end the loop; SIGUSR1 reopens the log file. */
static void
sweeper_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	(void)sigemptyset(&sa.sa_mask);
	sa.sa_handler = sweeper_on_term;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = sweeper_on_usr1;
	(void)sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigprocmask(SIG_SETMASK, &sa.sa_mask, NULL);
}

/* One tick: the lease, and the holds that are due. */
static void
sweeper_tick(struct db *db, const char *holder)
{
	int64_t expired = 0;
	enum db_rc rc = db_ensure(db);

	if (rc == DB_OK)
		rc = ledger_hold_sweep(
		    db, holder, (int64_t)time(NULL), &expired);
	if (rc != DB_OK)
		log_event(LOG_WARN, "hold_sweep", "rc=%s", db_rc_name(rc));
	else if (expired > 0)
		log_event(
		    LOG_INFO, "hold_sweep", "expired=%lld", (long long)expired);
}

int
sweeper_run(const struct config *cfg)
{
	static struct db db;
	char holder[SWEEPER_HOLDER_SIZE], host[SWEEPER_HOST_SIZE];
	struct timespec tick = {
	    SWEEPER_TICK_MS / 1000, (SWEEPER_TICK_MS % 1000) * 1000 * 1000};
	int n;

	sweeper_signals();
	/* Its own name in ps and pgrep, apart from the workers. */
	(void)prctl(PR_SET_NAME, "payd-sweeper");
	if (gethostname(host, sizeof(host)) != 0)
		(void)snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	n = snprintf(holder, sizeof(holder), "%s:%ld", host, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(holder))
		fatal("sweeper: holder name too long");
	db_init(&db, cfg);
	log_event(LOG_INFO, "sweeper_ready", "holder=%s", holder);
	while (!sweeper_stop) {
		struct timespec left = tick;

		if (sweeper_reopen) {
			sweeper_reopen = 0;
			if (log_reopen() != 0)
				log_event(LOG_ERROR, "log_reopen",
				    "error=\"%s\"", strerror(errno));
		}
		/* A signal cuts the sleep short: the loop looks again. */
		if (nanosleep(&left, NULL) == 0)
			sweeper_tick(&db, holder);
	}
	db_close(&db);
	log_event(LOG_INFO, "sweeper_exit", "reason=signal");
	return 0;
}
