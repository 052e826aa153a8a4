/*
 * libcurl client and stack controls for the integration tests.
 */
#include <check.h>
#include <ctype.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "curl_req.h"

static size_t
client_on_body(char *data, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;

	return curl_req_append(
	    r->body, sizeof(r->body), &r->len, data, size * n);
}

static size_t
client_on_header(char *data, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;

	return curl_req_append(
	    r->headers, sizeof(r->headers), &r->hlen, data, size * n);
}

/* Adds "name: value" to obj; a repeated name gets ", value" appended. */
static void
client_header_add(
    struct json_object *obj, const char *name, const char *v, size_t vlen)
{
	char joined[CLIENT_HEADERS_MAX];
	struct json_object *old;

	if (!json_object_object_get_ex(obj, name, &old)) {
		json_object_object_add(
		    obj, name, json_object_new_string_len(v, (int)vlen));
		return;
	}
	(void)snprintf(joined, sizeof(joined), "%s, %.*s",
	    json_object_get_string(old), (int)vlen, v);
	json_object_object_add(obj, name, json_object_new_string(joined));
}

/*
 * The headers of the last response in r->headers (the lines after its
 * status line) into obj, names in lower case.
 */
static void
client_headers_json(const struct resp *r, struct json_object *obj)
{
	const char *last = r->headers;
	char name[128];

	/* After a 100 Continue or a redirect, only the last block counts. */
	for (const char *p = r->headers; (p = strstr(p, "HTTP/")) != NULL; p++)
		if (p == r->headers || p[-1] == '\n')
			last = p;
	for (const char *p = last; p != NULL && *p != '\0';) {
		const char *line = p;
		const char *eol = strstr(p, "\r\n");
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
		const char *colon = memchr(line, ':', len);
		const char *v;
		size_t n;

		p = eol != NULL ? eol + 2 : NULL;
		if (colon == NULL || (size_t)(colon - line) >= sizeof(name))
			continue;
		n = (size_t)(colon - line);
		for (size_t i = 0; i < n; i++)
			name[i] = (char)tolower((unsigned char)line[i]);
		name[n] = '\0';
		for (v = colon + 1; *v == ' '; v++)
			;
		client_header_add(obj, name, v, len - (size_t)(v - line));
	}
}

/* Forked clients write the same file: one write() a line, locked. */
void
client_record(const char *method, const char *path, const struct resp *r)
{
	const char *file = getenv("PAYD_RECORD");
	struct json_object *rec, *headers;
	const char *line;
	size_t len;
	char *text;
	int fd;

	if (file == NULL || file[0] == '\0' || r->status == 0)
		return;
	rec = json_object_new_object();
	headers = json_object_new_object();
	client_headers_json(r, headers);
	json_object_object_add(
	    rec, "source", json_object_new_string("integration"));
	json_object_object_add(rec, "method", json_object_new_string(method));
	json_object_object_add(rec, "path", json_object_new_string(path));
	json_object_object_add(
	    rec, "status", json_object_new_int((int)r->status));
	json_object_object_add(rec, "headers", headers);
	json_object_object_add(
	    rec, "body", json_object_new_string_len(r->body, (int)r->len));
	line = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN);
	len = strlen(line);
	text = malloc(len + 1);
	ck_assert_ptr_nonnull(text);
	memcpy(text, line, len);
	text[len] = '\n';
	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0, "PAYD_RECORD %s cannot be opened", file);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	ck_assert_int_eq(write(fd, text, len + 1), (ssize_t)(len + 1));
	(void)flock(fd, LOCK_UN);
	(void)close(fd);
	free(text);
	json_object_put(rec);
}

int
api(const char *method, const char *path, const char *token, const char *body,
    const char *const *extra, struct resp *r)
{
	const char *base = getenv("STACK_URL");
	struct curl_slist *hdrs = NULL;
	char url[2048], auth[2048];
	int has_ct = 0, rc;
	CURL *c;

	/* Not the whole body buffer: it is large, and only len counts. */
	r->status = 0;
	r->len = 0;
	r->hlen = 0;
	r->body[0] = '\0';
	r->headers[0] = '\0';
	r->json = NULL;
	if (base == NULL)
		return -1;
	(void)snprintf(url, sizeof(url), "%s%s", base, path);
	c = curl_easy_init();
	if (c == NULL)
		return -1;
	for (const char *const *h = extra; h != NULL && *h != NULL; h++) {
		if (strncasecmp(*h, "Content-Type:", 13) == 0)
			has_ct = 1;
		hdrs = curl_slist_append(hdrs, *h);
	}
	if (body != NULL && !has_ct)
		hdrs =
		    curl_slist_append(hdrs, "Content-Type: application/json");
	if (token != NULL) {
		(void)snprintf(
		    auth, sizeof(auth), "Authorization: Bearer %s", token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_req_setup(
	    c, url, method, hdrs, body, client_on_body, client_on_header, r);
	rc = curl_easy_perform(c) == CURLE_OK ? 0 : -1;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (rc == 0 && r->len > 0)
		r->json = json_tokener_parse(r->body);
	if (rc == 0)
		client_record(method, path, r);
	return rc;
}

void
resp_free(struct resp *r)
{
	if (r->json != NULL)
		json_object_put(r->json);
	r->json = NULL;
}

const char *
resp_header(const struct resp *r, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);

	for (const char *p = r->headers; p != NULL && *p != '\0';) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);

		if (len > nlen && strncasecmp(p, name, nlen) == 0 &&
		    p[nlen] == ':') {
			const char *v = p + nlen + 1;
			size_t vlen;

			while (*v == ' ')
				v++;
			vlen = len - (size_t)(v - p);
			if (vlen >= size)
				return NULL;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return out;
		}
		p = eol != NULL ? eol + 2 : NULL;
	}
	return NULL;
}

const char *
resp_err(const struct resp *r)
{
	struct json_object *e, *c;

	if (r->json == NULL ||
	    !json_object_object_get_ex(r->json, "error", &e) ||
	    !json_object_object_get_ex(e, "code", &c))
		return "";
	return json_object_get_string(c);
}

const char *
resp_str(const struct resp *r, const char *field)
{
	struct json_object *v;

	if (r->json == NULL || !json_object_object_get_ex(r->json, field, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

long long
resp_int(const struct resp *r, const char *field)
{
	struct json_object *v;

	if (r->json == NULL || !json_object_object_get_ex(r->json, field, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	return (long long)json_object_get_int64(v);
}

void
unique_name(const char *prefix, char *out, size_t size)
{
	static unsigned counter;
	unsigned r = 0;
	FILE *fp = fopen("/dev/urandom", "r");

	if (fp != NULL) {
		if (fread(&r, sizeof(r), 1, fp) != 1)
			r = 0;
		fclose(fp);
	}
	(void)snprintf(out, size, "%.12s%x%u", prefix, r, counter++);
}

long long
register_login(const char *username, char *token_out)
{
	char body[256];
	struct resp *r = malloc(sizeof(*r));
	long long id;

	ck_assert_ptr_nonnull(r);
	(void)snprintf(body, sizeof(body),
	    "{\"username\":\"%s\",\"password\":\"password123\"}", username);
	ck_assert_int_eq(api("POST", "/register", NULL, body, NULL, r), 0);
	ck_assert_msg(r->status == 201, "register %s: %ld %s", username,
	    r->status, r->body);
	id = resp_int(r, "id");
	resp_free(r);
	ck_assert_int_eq(api("POST", "/login", NULL, body, NULL, r), 0);
	ck_assert_msg(r->status == 200, "login: %ld %s", r->status, r->body);
	(void)snprintf(token_out, 1024, "%s", resp_str(r, "token"));
	resp_free(r);
	free(r);
	return id;
}

long
top_up(const char *token, const char *amount)
{
	char body[128];
	struct resp *r = malloc(sizeof(*r));
	long status;

	ck_assert_ptr_nonnull(r);
	(void)snprintf(body, sizeof(body), "{\"amount\":\"%s\"}", amount);
	ck_assert_int_eq(api("POST", "/balance", token, body, NULL, r), 0);
	status = r->status;
	resp_free(r);
	free(r);
	return status;
}

const char *
balance_of(const char *token, char *out, size_t size)
{
	struct resp *r = malloc(sizeof(*r));

	ck_assert_ptr_nonnull(r);
	out[0] = '\0';
	if (api("GET", "/balance", token, NULL, NULL, r) == 0 &&
	    r->status == 200)
		(void)snprintf(out, size, "%s", resp_str(r, "balance"));
	resp_free(r);
	free(r);
	return out;
}

static int client_stack_run(const char *cmd);

int
stack_cmd(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return client_stack_run(cmd);
}

int
stack_wait(const char *fmt, ...)
{
	char cond[2048], cmd[2400];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(cond, sizeof(cond), fmt, ap);
	va_end(ap);
	(void)snprintf(cmd, sizeof(cmd),
	    "n=0; until %s; do n=$((n + 1)); "
	    "[ $n -ge %d ] && exit 1; sleep 0.1; done; exit 0",
	    cond, STACK_WAIT_GUARD_S * 10);
	return client_stack_run(cmd);
}

static int
client_stack_run(const char *cmd)
{
	char script[4096];
	int st;

	/*
	 * In a session of its own: Check kills a test's process group when
	 * the test ends, and a database or app restarted here must outlive
	 * it.
	 */
	(void)snprintf(script, sizeof(script),
	    "setsid -w sh -c 'cd "
	    "\"$STACK_ROOT\" && . tests/lib/stack.sh && "
	    "eval \"$STACK_CMD_SCRIPT\"'");
	setenv("STACK_CMD_SCRIPT", cmd, 1);
	st = system(script);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int
run_audit(void)
{
	return stack_cmd("\"$PAYD_BIN\" -c \"$STACK_DIR/payd.conf\" audit "
	                 ">>\"$STACK_DIR/audit.log\" 2>&1");
}

int
stack_output(char *out, size_t size, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	size_t n;
	FILE *fp;

	ck_assert_uint_gt(size, 0);
	va_start(ap, fmt);
	(void)vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	out[0] = '\0';
	fp = popen(cmd, "r");
	if (fp == NULL)
		return -1;
	n = fread(out, 1, size - 1, fp);
	out[n] = '\0';
	if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = '\0';
	return pclose(fp);
}

int
stack_retired_count(const char *name)
{
	char out[32];

	if (stack_output(out, sizeof(out), "echo " STACK_RETIRED_COUNT, name) !=
	        0 ||
	    out[0] < '0' || out[0] > '9')
		return -1;
	return atoi(out);
}

int
stack_reconfigure(const char *lines)
{
	static const char *const names[] = {"payd", "payd2"};
	int before[2];

	for (size_t i = 0; i < 2; i++) {
		const char *n = names[i];
		int rc;

		/* Nothing kept: nothing to put back, no reload. */
		if (lines == NULL &&
		    stack_cmd("[ -f \"$STACK_DIR/%s.conf.kept\" ]", n) != 0) {
			before[i] = -1;
			continue;
		}
		if (lines != NULL)
			rc = stack_cmd("c=\"$STACK_DIR/%s.conf\"; cp \"$c\" "
			               "\"$c.kept\" && printf '%%s\\n' '%s' "
			               ">>\"$c\"",
			    n, lines);
		else
			rc = stack_cmd("c=\"$STACK_DIR/%s.conf\"; "
			               "[ ! -f \"$c.kept\" ] || mv \"$c.kept\" "
			               "\"$c\"",
			    n);
		before[i] = stack_retired_count(n);
		if (before[i] < 0 || rc != 0 ||
		    stack_cmd("kill -HUP \"$(cat \"$STACK_DIR/"
		              "%s.pid\")\"",
		        n) != 0)
			return -1;
	}
	/* Every old worker of each: the answers after are the new ones'. */
	for (size_t i = 0; i < 2; i++)
		if (before[i] >= 0 &&
		    stack_wait("[ " STACK_RETIRED_COUNT " -ge %d ]", names[i],
		        before[i] + 2) != 0)
			return -1;
	return 0;
}

struct resp *R;

void
resp_setup(void)
{
	R = calloc(1, sizeof(*R));
	ck_assert_ptr_nonnull(R);
}

void
resp_teardown(void)
{
	resp_free(R);
	free(R);
	R = NULL;
}
