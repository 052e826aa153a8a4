/*
 * Logging: key=value lines on stderr or a file, formatted on the stack.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "log.h"

static const char *const log_level_names[LOG__MAX] = {
    "error", /* LOG_ERROR */
    "warn",  /* LOG_WARN */
    "info",  /* LOG_INFO */
    "debug", /* LOG_DEBUG */
};

static enum log_level log_level_cur = LOG_INFO;
static int log_fd = STDERR_FILENO;
static char log_path[CONFIG_PATH_SIZE_MAX];
static const char *log_req_id;
/* getpid() once per process, not per line: refreshed in a forked child. */
static long log_pid;

static long log_get_pid(void);
static void log_after_fork(void);

static size_t log_prefix(
    char *line, size_t size, enum log_level level, const char *event);
static void log_write(char *line, size_t len);

void
log_init(enum log_level level)
{
	log_level_cur = level;
}

void
log_set_level(enum log_level level)
{
	log_level_cur = level;
}

bool
log_level_parse(const char *text, enum log_level *out)
{
	for (int i = 0; i < LOG__MAX; i++) {
		if (strcmp(text, log_level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

const char *
log_level_name(enum log_level level)
{
	return level < LOG__MAX ? log_level_names[level] : "?";
}

int
log_open_file(const char *path)
{
	int fd, n;

	if (path == NULL || path[0] == '\0') {
		log_path[0] = '\0';
		if (log_fd != STDERR_FILENO)
			(void)close(log_fd);
		log_fd = STDERR_FILENO;
		return 0;
	}
	n = snprintf(log_path, sizeof(log_path), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(log_path)) {
		log_path[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (log_fd != STDERR_FILENO)
		(void)close(log_fd);
	log_fd = fd;
	return 0;
}

int
log_reopen(void)
{
	char path[CONFIG_PATH_SIZE_MAX];

	if (log_path[0] == '\0')
		return 0;
	memcpy(path, log_path, sizeof(path));
	return log_open_file(path);
}

void
log_set_req_id(const char *req_id)
{
	log_req_id = req_id;
}

static void
log_after_fork(void)
{
	log_pid = (long)getpid();
}

static long
log_get_pid(void)
{
	if (log_pid == 0) {
		log_pid = (long)getpid();
		/* Only a child it forks needs the pid again. */
		(void)pthread_atfork(NULL, NULL, log_after_fork);
	}
	return log_pid;
}

static size_t
log_prefix(char *line, size_t size, enum log_level level, const char *event)
{
	struct timespec now;
	struct tm tm;
	char ts[32];
	int n;

	(void)clock_gettime(CLOCK_REALTIME, &now);
	(void)gmtime_r(&now.tv_sec, &tm);
	if (strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		ts[0] = '\0';
	n = snprintf(line, size,
	    "ts=%s.%03ldZ level=%s pid=%ld req_id=%s "
	    "event=%s",
	    ts, now.tv_nsec / 1000000L, log_level_name(level), log_get_pid(),
	    log_req_id != NULL ? log_req_id : "-", event);
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

/*
 * One write(2) per line keeps lines from several workers whole, since
 * writes under PIPE_BUF to a pipe or an O_APPEND file are atomic.
 */
static void
log_write(char *line, size_t len)
{
	line[len++] = '\n';
	(void)!write(log_fd, line, len);
}

void
log_event(enum log_level level, const char *event, const char *fmt, ...)
{
	char line[LOG_LINE_SIZE_MAX];
	const size_t cap = sizeof(line) - 1; /* room for the newline */
	size_t len;
	int saved = errno;

	if (level > log_level_cur)
		return;
	len = log_prefix(line, cap, level, event);
	if (fmt != NULL && fmt[0] != '\0' && len + 1 < cap) {
		va_list ap;
		int n;

		line[len++] = ' ';
		va_start(ap, fmt);
		n = vsnprintf(line + len, cap - len, fmt, ap);
		va_end(ap);
		if (n > 0 && (size_t)n >= cap - len) {
			len = cap - 1;
			/* Mark the truncation; the line goes out by length. */
			line[len - 3] = '.';
			line[len - 2] = '.';
			line[len - 1] = '.';
		} else if (n > 0) {
			len += (size_t)n;
		}
	}
	log_write(line, len);
	errno = saved;
}

/* A byte written as itself, or as \xNN (4 bytes) when unsafe in a log. */
static unsigned
log_quote_width(unsigned char c)
{
	return c < 0x20 || c >= 0x7f || c == '"' || c == '\\' ? 4 : 1;
}

/*
 * The value whole when it fits in size bytes with its quotes and NUL;
 * else as many whole characters (an escape is never cut) as leave room
 * for LOG_QUOTE_MARK, the closing quote and the NUL.
 */
const char *
log_quote(char *out, unsigned size, const char *value)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *v = (const unsigned char *)value;
	bool quote = value[0] == '\0';
	size_t need, room, tail, o = 0, i;

	if (size < LOG_QUOTE_SIZE_MIN) {
		if (size > 0)
			out[0] = '\0';
		return out;
	}
	for (i = 0; v[i] != '\0'; i++)
		if (v[i] == ' ' || v[i] == '"' || v[i] == '=')
			quote = true;
	tail = (quote ? 1 : 0) + 1; /* the closing quote and the NUL */
	need = (quote ? 1 : 0) + tail;
	for (i = 0; v[i] != '\0' && need <= size; i++)
		need += log_quote_width(v[i]);
	room = need <= size ? size : size - (sizeof(LOG_QUOTE_MARK) - 1);
	if (quote)
		out[o++] = '"';
	for (i = 0; v[i] != '\0'; i++) {
		unsigned w = log_quote_width(v[i]);

		if (o + w + tail > room)
			break;
		if (w == 1) {
			out[o++] = (char)v[i];
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[v[i] >> 4];
		out[o++] = hex[v[i] & 0xf];
	}
	if (v[i] != '\0') {
		memcpy(out + o, LOG_QUOTE_MARK, sizeof(LOG_QUOTE_MARK) - 1);
		o += sizeof(LOG_QUOTE_MARK) - 1;
	}
	if (quote)
		out[o++] = '"';
	assert(o < size);
	out[o] = '\0';
	return out;
}

void
fatal(const char *fmt, ...)
{
	char msg[LOG_LINE_SIZE_MAX / 2];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		msg[0] = '\0';
	log_event(LOG_ERROR, "fatal", "msg=\"%s\"", msg);
	exit(1);
}
