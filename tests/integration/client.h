/*
 * The integration tests' HTTP client (libcurl) and stack controls. The
 * stack is started by tests/lib/integration.sh, which exports STACK_URL,
 * STACK_DIR, STACK_ROOT and PAYD_BIN.
 */
#ifndef CLIENT_H
#define CLIENT_H

#include <stddef.h>
#include <json-c/json.h>

/* The largest answer: a statement of 10000 entries (~2.6 MB). */
#define CLIENT_BODY_MAX (4 * 1024 * 1024)
#define CLIENT_HEADERS_MAX (16 * 1024)

struct resp {
	long status;
	char body[CLIENT_BODY_MAX];
	size_t len;
	char headers[CLIENT_HEADERS_MAX];
	size_t hlen;
	struct json_object *json; /* parsed body, or NULL; freed by resp_free */
};

/*
 * One request through nginx. token (may be NULL) goes in as
 * "Authorization: Bearer <token>"; extra (may be NULL) is a NULL-ended list
 * of "Name: value" headers. A body is sent as application/json unless
 * extra names a Content-Type. Returns 0, or -1 on a transport failure.
 */
int api(const char *method, const char *path, const char *token,
    const char *body, const char *const *extra, struct resp *r);
void resp_free(struct resp *r);
/*
 * Appends the response to the file PAYD_RECORD names, when it does, as one
 * JSON line {"method","path","status","headers","body"}, which
 * tests/openapi/check.mjs validates against docs/openapi.yaml. api() calls
 * it for every response; a test that sends raw bytes calls it itself.
 */
void client_record(const char *method, const char *path, const struct resp *r);

/* The answer most tests read, allocated per test by resp_setup(). */
extern struct resp *R;
/* Check fixtures: a zeroed R for each test, freed after it. */
void resp_setup(void);
void resp_teardown(void);

/* A response header's value (case-insensitive name) into out, or NULL. */
const char *resp_header(
    const struct resp *r, const char *name, char *out, size_t size);
/* The error code of an error body, or "". */
const char *resp_err(const struct resp *r);
/* A string field of the top-level object, or "". */
const char *resp_str(const struct resp *r, const char *field);
/* An integer field of the top-level object, or -1. */
long long resp_int(const struct resp *r, const char *field);

/* A fresh username "<prefix><pid><counter>" of at most 32 characters. */
void unique_name(const char *prefix, char *out, size_t size);
/*
 * Registers username with password "password123" and logs in; token_out
 * (at least 1024 bytes) gets the JWT. Returns the user id, or -1.
 */
long long register_login(const char *username, char *token_out);
/* Tops up the user of token by amount ("10.00"); returns the status. */
long top_up(const char *token, const char *amount);
/* The balance text of the token's user into out, or "" on failure. */
const char *balance_of(const char *token, char *out, size_t size);

/* Runs "sh -c '. stack.sh; <cmd>'" against STACK_DIR; returns its status. */
int stack_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Runs the shell condition cond (as stack_cmd) every 0.1 s until it holds;
 * returns 0 then, or 1 when it did not hold within STACK_WAIT_GUARD_S (a
 * guard against a hang, not a speed assumption).
 */
#define STACK_WAIT_GUARD_S 60
int stack_wait(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Runs the shell command fmt (popen: STACK_DIR, STACK_ROOT... from the
 * environment) and reads what it prints, at most size - 1 bytes, into out,
 * without its last newline ("" for nothing). Returns pclose()'s status
 * (0: it exited 0), or -1 when it could not start.
 */
int stack_output(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * The shell text that lists the workers of the first app instance (the
 * children of its master but the hold sweeper), one pid a line.
 */
#define STACK_PAYD_WORKERS                                                     \
	"m=$(cat \"$STACK_DIR/payd.pid\"); pgrep -P \"$m\" | "                 \
	"grep -vxF \"$(pgrep -P \"$m\" -x payd-sweeper)\""
/*
 * A shell condition's text for how many old workers the instance named
 * by %s (payd, payd2) has retired, from its log; stack_retired_count()
 * reads it now (-1 when it cannot).
 */
#define STACK_RETIRED_COUNT                                                    \
	"$(grep -c 'event=worker_exit .*role=retired' \"$STACK_DIR/%s.log\")"
int stack_retired_count(const char *name);
/*
 * Adds lines ("key = value", newline-separated) to the configuration of
 * both app instances, the files kept first; with lines NULL, puts the kept
 * files back. Then reloads both (SIGHUP) and waits until each has retired
 * its old workers, so that every later answer comes from the new
 * configuration. Returns 0, or -1.
 */
int stack_reconfigure(const char *lines);
/* Runs "payd audit"; returns its exit status (0: the ledger is sound). */
int run_audit(void);

#endif /* CLIENT_H */
