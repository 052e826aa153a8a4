/*
 * Logging: one key=value line per request or event, on stderr (journald) or
 * an optional file that is reopened on SIGUSR1. Lines are formatted on the
 * stack, never allocated; a line that does not fit ends in "...".
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_ERROR, /* "error": an operator must act */
	LOG_WARN,  /* "warn": degraded */
	LOG_INFO,  /* "info": requests and life cycle */
	LOG_DEBUG, /* "debug": off by default */
	LOG__MAX
};

/* Sets the level and the process role. Never fails. */
void log_init(enum log_level level);
/* Parses "error", "warn", "info" or "debug". Returns false otherwise. */
bool log_level_parse(const char *text, enum log_level *out);
const char *log_level_name(enum log_level level);
void log_set_level(enum log_level level);

/*
 * Sends lines to path (append) instead of stderr; NULL or "" means stderr.
 * Returns 0, or -1 with errno set when the file cannot be opened.
 */
int log_open_file(const char *path);
/* Reopens the log file after logrotate moved it (SIGUSR1). */
int log_reopen(void);

/*
 * The request id written into every line until cleared; the pointer must
 * stay valid until log_set_req_id(NULL).
 */
void log_set_req_id(const char *req_id);

/*
 * Writes "ts=... level=... pid=... req_id=... event=<event> <fmt...>".
 * fmt holds further key=value pairs; use log_quote() for untrusted values.
 * errno is preserved.
 */
void log_event(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* What log_quote() writes where it cut a value short. */
#define LOG_QUOTE_MARK "..."

/*
 * Writes value into out (size bytes) as a safe log value: quoted when it is
 * empty or has a space, '"' or '='; bytes outside printable ASCII, '"' and
 * '\\' escaped as \xNN. A value that does not fit is cut before a whole
 * character and ends in LOG_QUOTE_MARK (inside the quotes). Never writes
 * past out[size - 1]; out is always terminated. size below
 * LOG_QUOTE_SIZE_MIN gives "". Returns out.
 */
const char *log_quote(char *out, unsigned size, const char *value);

/* Logs at error level and exits 1. For start-up failures only. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif /* LOG_H */
