/*
 * The master: socket, workers, supervision, drain and reload.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "bounds.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "sweeper.h"
#include "util.h"
#include "worker.h"

_Static_assert(MASTER_BACKOFF_MS_MIN < WORKER_BACKOFF_MS_MAX,
    "back-off must be able to grow");

struct slot {
	pid_t pid; /* 0 when empty */
	int64_t started_ms;
	int64_t backoff_ms;
	int64_t respawn_at_ms;
};

struct master {
	struct config *cfg;
	const char *config_path;
	int listen_fd;
	struct slot slots[WORKER_COUNT_MAX];
	int nslots;
	pid_t retired[MASTER_RETIRED_MAX];
	int nretired;
	struct slot sweeper; /* the hold sweeper's process (sweeper.h) */
	bool stopping;
	pid_t pid;
};

static pid_t master_spawn(struct master *m, int *ready_fd, bool sweeper);
static void master_spawn_slot(struct master *m, int i);
static void master_reap(struct master *m);
static void master_respawn_due(struct master *m);
static void master_reload(struct master *m);
static int master_drain(struct master *m);
static bool master_wait_ready(int fd);
static void master_log_exit(pid_t pid, int status, const char *role);
static int master_alive(const struct master *m);
static void master_signal_all(const struct master *m, int sig);

int
master_listen(const char *spec)
{
	const char *colon = strrchr(spec, ':');
	int fd, one = 1;

	if (spec[0] == '/' || colon == NULL) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (util_copy(sun.sun_path, sizeof(sun.sun_path), spec) != 0)
			fatal("listen: socket path too long: %s", spec);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			fatal("listen: socket: %s", strerror(errno));
		(void)unlink(spec);
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
			fatal("listen: bind %s: %s", spec, strerror(errno));
		/*
		 * The service's user and group only: nginx's user is in the
		 * group (deploy/install.sh). No other local user reaches the
		 * app without nginx, whatever the directory's mode.
		 */
		if (chmod(spec, MASTER_SOCKET_MODE) != 0)
			fatal("listen: chmod %s: %s", spec, strerror(errno));
	} else {
		struct addrinfo hints, *res;
		char host[CONFIG_VALUE_SIZE_MAX];
		size_t hlen = (size_t)(colon - spec);
		int rc;

		if (hlen >= sizeof(host))
			fatal("listen: host too long");
		memcpy(host, spec, hlen);
		host[hlen] = '\0';
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		rc = getaddrinfo(
		    host[0] != '\0' ? host : NULL, colon + 1, &hints, &res);
		if (rc != 0)
			fatal("listen: %s: %s", spec, gai_strerror(rc));
		fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			fatal("listen: socket: %s", strerror(errno));
		(void)setsockopt(
		    fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, res->ai_addr, res->ai_addrlen) != 0)
			fatal("listen: bind %s: %s", spec, strerror(errno));
		freeaddrinfo(res);
	}
	if (listen(fd, SOMAXCONN) != 0)
		fatal("listen: listen: %s", strerror(errno));
	/* Workers poll, then accept; the loser of a race gets EAGAIN. */
	if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0)
		fatal("listen: fcntl: %s", strerror(errno));
	return fd;
}

static void
master_log_exit(pid_t pid, int status, const char *role)
{
	if (WIFSIGNALED(status))
		log_event(WTERMSIG(status) == SIGKILL ? LOG_WARN : LOG_ERROR,
		    "worker_exit", "worker_pid=%ld role=%s signal=%d%s",
		    (long)pid, role, WTERMSIG(status),
		    WCOREDUMP(status) ? " core=1" : "");
	else
		log_event(WEXITSTATUS(status) == 0 ? LOG_INFO : LOG_ERROR,
		    "worker_exit", "worker_pid=%ld role=%s status=%d",
		    (long)pid, role, WEXITSTATUS(status));
}

/*
 * Forks one worker, or the sweeper. ready_fd, when not NULL, gets the
 * readiness pipe.
 */
static pid_t
master_spawn(struct master *m, int *ready_fd, bool sweeper)
{
	int fds[2] = {-1, -1};
	pid_t pid;

	if (ready_fd != NULL && pipe2(fds, O_CLOEXEC) != 0) {
		log_event(LOG_ERROR, "worker_spawn", "call=pipe2 error=\"%s\"",
		    strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_event(LOG_ERROR, "worker_spawn", "call=fork error=\"%s\"",
		    strerror(errno));
		if (fds[0] >= 0) {
			(void)close(fds[0]);
			(void)close(fds[1]);
		}
		return -1;
	}
	if (pid == 0) {
		/* A worker never outlives its master, even one SIGKILLed. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 ||
		    getppid() != m->pid)
			_exit(1);
		if (fds[0] >= 0)
			(void)close(fds[0]);
		if (sweeper) {
			/* Only workers accept: a drain closes the socket. */
			(void)close(m->listen_fd);
			_exit(sweeper_run(m->cfg));
		}
		_exit(worker_run(m->cfg, m->listen_fd, fds[1]));
	}
	if (fds[1] >= 0)
		(void)close(fds[1]);
	if (ready_fd != NULL)
		*ready_fd = fds[0];
	log_event(LOG_INFO, "worker_spawn", "worker_pid=%ld role=%s", (long)pid,
	    sweeper ? "sweeper" : "worker");
	return pid;
}

static void
master_spawn_slot(struct master *m, int i)
{
	struct slot *s = i < 0 ? &m->sweeper : &m->slots[i];

	s->pid = master_spawn(m, NULL, i < 0);
	s->started_ms = util_now_ms();
	if (s->pid < 0) {
		s->pid = 0;
		s->respawn_at_ms = s->started_ms + WORKER_BACKOFF_MS_MAX;
	}
}

static void
master_reap(struct master *m)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		bool found = false;

		for (int i = 0; i < m->nslots && !found; i++) {
			struct slot *s = &m->slots[i];
			int64_t now = util_now_ms();

			if (s->pid != pid)
				continue;
			found = true;
			master_log_exit(pid, status, "active");
			s->pid = 0;
			/* Double the back-off while it keeps crashing. */
			if (now - s->started_ms < MASTER_CRASH_WINDOW_MS)
				s->backoff_ms = s->backoff_ms == 0
				                    ? MASTER_BACKOFF_MS_MIN
				                    : s->backoff_ms * 2;
			else
				s->backoff_ms = 0;
			if (s->backoff_ms > WORKER_BACKOFF_MS_MAX)
				s->backoff_ms = WORKER_BACKOFF_MS_MAX;
			s->respawn_at_ms = now + s->backoff_ms;
		}
		if (!found && m->sweeper.pid == pid) {
			found = true;
			master_log_exit(pid, status, "sweeper");
			m->sweeper.pid = 0;
			m->sweeper.respawn_at_ms =
			    util_now_ms() + MASTER_CRASH_WINDOW_MS;
		}
		for (int i = 0; i < m->nretired && !found; i++) {
			if (m->retired[i] != pid)
				continue;
			found = true;
			master_log_exit(pid, status, "retired");
			m->retired[i] = m->retired[--m->nretired];
		}
		if (!found)
			master_log_exit(pid, status, "unknown");
	}
}

static void
master_signal_all(const struct master *m, int sig)
{
	for (int i = 0; i < m->nslots; i++)
		if (m->slots[i].pid > 0)
			(void)kill(m->slots[i].pid, sig);
	for (int i = 0; i < m->nretired; i++)
		(void)kill(m->retired[i], sig);
	if (m->sweeper.pid > 0)
		(void)kill(m->sweeper.pid, sig);
}

static int
master_alive(const struct master *m)
{
	int n = 0;

	for (int i = 0; i < m->nslots; i++)
		n += m->slots[i].pid > 0;
	return n;
}

static void
master_respawn_due(struct master *m)
{
	int64_t now = util_now_ms();

	for (int i = 0; i < m->nslots; i++)
		if (m->slots[i].pid == 0 && now >= m->slots[i].respawn_at_ms)
			master_spawn_slot(m, i);
	if (m->sweeper.pid == 0 && now >= m->sweeper.respawn_at_ms)
		master_spawn_slot(m, -1);
}

static bool
master_wait_ready(int fd)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	char c;

	for (int waited = 0; waited < MASTER_READY_WAIT_MS; waited += 10) {
		ssize_t n = read(fd, &c, 1);

		if (n == 1)
			return true;
		if (n == 0)
			return false; /* it died before it was ready */
		(void)nanosleep(&ts, NULL);
	}
	return false;
}

static void
master_retire(struct master *m, pid_t pid)
{
	if (pid <= 0)
		return;
	(void)kill(pid, SIGTERM);
	if (m->nretired < MASTER_RETIRED_MAX)
		m->retired[m->nretired++] = pid;
}

/*
 * SIGHUP: a new configuration, then the workers replaced one at a time so
 * that the others serve meanwhile. A bad file changes nothing.
 */
static void
master_reload(struct master *m)
{
	char err[256];
	struct config next;
	int old_n = m->nslots;

	(void)sd_notify(0, "RELOADING=1");
	config_defaults(&next);
	if (config_load(&next, m->config_path, err, sizeof(err)) != 0 ||
	    config_check_serve(&next, err, sizeof(err)) != 0) {
		log_event(LOG_ERROR, "reload_refused", "reason=\"%s\"", err);
		config_wipe(&next);
		(void)sd_notify(0, "READY=1");
		return;
	}
	if (strcmp(next.listen, m->cfg->listen) != 0)
		log_event(LOG_WARN, "reload",
		    "msg=\"listen changes need a "
		    "restart; keeping %s\"",
		    m->cfg->listen);
	(void)util_copy(next.listen, sizeof(next.listen), m->cfg->listen);
	config_wipe(m->cfg);
	*m->cfg = next;
	explicit_bzero(&next, sizeof(next));
	log_set_level(m->cfg->log_level);
	if (log_open_file(m->cfg->log_file) != 0)
		log_event(
		    LOG_ERROR, "log_open", "error=\"%s\"", strerror(errno));
	log_event(LOG_INFO, "reload", "workers_old=%d workers_new=%d", old_n,
	    m->cfg->workers);
	config_log(m->cfg);
	m->nslots = m->cfg->workers;
	for (int i = 0; i < m->nslots || i < old_n; i++) {
		struct slot *s = &m->slots[i];
		pid_t old = s->pid;
		int ready = -1;

		if (i >= m->nslots) {
			master_retire(m, old);
			memset(s, 0, sizeof(*s));
			continue;
		}
		memset(s, 0, sizeof(*s));
		s->pid = master_spawn(m, &ready, false);
		s->started_ms = util_now_ms();
		if (s->pid < 0)
			s->pid = 0;
		if (ready >= 0) {
			if (!master_wait_ready(ready))
				log_event(LOG_WARN, "reload",
				    "msg=\"new worker "
				    "not ready\" worker_pid=%ld",
				    (long)s->pid);
			(void)close(ready);
		}
		master_retire(m, old);
		master_reap(m);
	}
	/* The sweeper too, with the new configuration (reaped, respawned). */
	if (m->sweeper.pid > 0)
		(void)kill(m->sweeper.pid, SIGTERM);
	(void)sd_notify(0, "READY=1");
}

/*
 * SIGTERM: first the socket's path goes, so that nginx's next connect
 * fails at once and goes to another instance (nginx never sends a POST it
 * has sent once to another); then every worker serves what is already
 * queued on the socket and exits (worker_drain); bounded by drain_s.
 */
static int
master_drain(struct master *m)
{
	int64_t deadline = util_now_ms() + (int64_t)m->cfg->drain_s * 1000;
	struct timespec ts = {0, MASTER_TICK_MS * 1000 * 1000};
	bool any = true;

	(void)sd_notify(0, "STOPPING=1");
	if (m->cfg->listen[0] == '/')
		(void)unlink(m->cfg->listen);
	/* The workers hold the socket open until the queue is empty. */
	(void)close(m->listen_fd);
	log_event(LOG_INFO, "drain", "timeout_s=%d", m->cfg->drain_s);
	for (int i = 0; i < m->nslots; i++)
		if (m->slots[i].pid > 0)
			(void)kill(m->slots[i].pid, SIGTERM);
	for (int i = 0; i < m->nretired; i++)
		(void)kill(m->retired[i], SIGTERM);
	if (m->sweeper.pid > 0)
		(void)kill(m->sweeper.pid, SIGTERM);
	while (any) {
		master_reap(m);
		any = m->nretired > 0 || m->sweeper.pid > 0;
		for (int i = 0; i < m->nslots; i++)
			any = any || m->slots[i].pid > 0;
		if (!any)
			break;
		if (util_now_ms() >= deadline) {
			log_event(
			    LOG_WARN, "drain", "msg=\"timeout, killing\"");
			for (int i = 0; i < m->nslots; i++)
				if (m->slots[i].pid > 0)
					(void)kill(m->slots[i].pid, SIGKILL);
			for (int i = 0; i < m->nretired; i++)
				(void)kill(m->retired[i], SIGKILL);
			if (m->sweeper.pid > 0)
				(void)kill(m->sweeper.pid, SIGKILL);
			deadline = INT64_MAX;
		}
		(void)nanosleep(&ts, NULL);
	}
	log_event(LOG_INFO, "stop", "msg=drained");
	return 0;
}

int
master_run(const char *config_path, struct config *cfg)
{
	static struct master m;
	const char *names[METRICS_ROUTE_COUNT_MAX];
	struct timespec tick = {0, MASTER_TICK_MS * 1000 * 1000};
	size_t n;
	sigset_t set;

	m.cfg = cfg;
	m.config_path = config_path;
	m.pid = getpid();
	m.listen_fd = master_listen(cfg->listen);
	n = worker_app.names != NULL
	        ? worker_app.names(names, METRICS_ROUTE_COUNT_MAX - 1)
	        : 0;
	if (metrics_init(names, n) != 0)
		log_event(LOG_WARN, "metrics", "error=\"%s\"", strerror(errno));
	m.nslots = cfg->workers;
	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGCHLD);
	(void)sigaddset(&set, SIGTERM);
	(void)sigaddset(&set, SIGINT);
	(void)sigaddset(&set, SIGHUP);
	(void)sigaddset(&set, SIGUSR1);
	(void)sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		fatal("sigprocmask: %s", strerror(errno));
	log_event(LOG_INFO, "start", "listen=%s workers=%d", cfg->listen,
	    cfg->workers);
	config_log(cfg);
	for (int i = 0; i < m.nslots; i++)
		master_spawn_slot(&m, i);
	master_spawn_slot(&m, -1);
	(void)sd_notifyf(0, "READY=1\nMAINPID=%ld", (long)getpid());
	while (!m.stopping) {
		int sig = sigtimedwait(&set, NULL, &tick);

		switch (sig) {
		case SIGTERM:
		case SIGINT:
			log_event(
			    LOG_INFO, "signal", "signal=%d action=stop", sig);
			m.stopping = true;
			break;
		case SIGHUP:
			master_reload(&m);
			break;
		case SIGUSR1:
			if (log_reopen() != 0)
				log_event(LOG_ERROR, "log_reopen",
				    "error=\"%s\"", strerror(errno));
			else
				log_event(LOG_INFO, "log_reopen", "ok=1");
			master_signal_all(&m, SIGUSR1);
			break;
		default:
			break;
		}
		master_reap(&m);
		if (!m.stopping)
			master_respawn_due(&m);
		metrics_workers_alive(master_alive(&m));
	}
	return master_drain(&m);
}
