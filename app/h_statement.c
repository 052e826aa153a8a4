/*
 * GET /statement and GET /balance?at= (API.md): the caller's balance at a
 * point in time, and the account statement of a time range, in JSON or,
 * with Accept: text/csv, in CSV (RFC 4180).
 *
 * Time (docs/money.md): entries carry whole seconds, in the account's
 * order (sql/R__payd_entry_at.sql); within one second they are in
 * movement id order. An entry at second s is at or before T when s <= T,
 * and in [from, to) when from <= s < to, the bounds compared as instants:
 * a bound with a fraction of a second is rounded up for the range, down
 * for ?at=.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "entry.h"
#include "handler.h"
#include "ledger.h"
#include "log.h"
#include "money.h"
#include "util.h"

_Static_assert(
    STATEMENT_ENTRIES_MAX *ENTRY_JSON_SIZE_MAX + STATEMENT_FRAME_SIZE_MAX <=
        HTTP_RESPONSE_SIZE_MAX,
    "a full statement fits the response buffer");

/* The CSV header line (RFC 4180 section 2.3), the JSON entry's fields. */
static const char statement_csv_head[] =
    "id,type,amount,fee,counterparty,balance_after,created_at,transfer_id\r\n";

/* STMT_STATEMENT's column after the entry's own: the entry's delta. */
#define STATEMENT_COL_DELTA ENTRY_COL__MAX
_Static_assert(
    STATEMENT_COL_DELTA < DB_COLUMN_COUNT_MAX, "the delta fits an entry row");

/* What a statement adds up, in minor units. */
struct statement_sum {
	int64_t opening, in, out, fees, last_after;
	int64_t count;
};

static int statement_param(
    const char *query, const char *name, int64_t *t, bool *frac);
static enum db_rc statement_balance_at(
    struct db *db, const struct ctx *ctx, int64_t at, int64_t *balance);
static void statement_row_csv(struct buf *b, const struct entry_row *row);
static int statement_add(
    struct statement_sum *sum, const struct entry_row *row);
static enum db_rc statement_entries(struct db *db, struct ctx *ctx,
    int64_t from, int64_t to, bool csv, struct statement_sum *sum);
static void statement_head(struct ctx *ctx, int64_t from, int64_t to);
static void statement_tail(struct ctx *ctx, const struct statement_sum *sum);
static enum db_rc statement_run(struct db *db, struct ctx *ctx, int64_t from,
    int64_t to, bool csv, bool *too_many);

/* The value of a hexadecimal digit, or -1. */
static int
statement_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Reads ?name= as an RFC 3339 time, percent-decoded (RFC 3986: a client
 * may send ":" as "%3A" and "+" as "%2B"). Returns 1 with *t and *frac,
 * 0 when absent, -1 when malformed or repeated.
 */
static int
statement_param(const char *query, const char *name, int64_t *t, bool *frac)
{
	char raw[STATEMENT_PARAM_SIZE_MAX * 3], text[STATEMENT_PARAM_SIZE_MAX];
	int found = http_query_get(query, name, raw, sizeof(raw));
	size_t n = 0;

	if (found <= 0)
		return found;
	for (const char *p = raw; *p != '\0'; p++) {
		int c = (unsigned char)*p;

		if (c == '%') {
			int hi = statement_hex(p[1]);
			int lo = hi < 0 ? -1 : statement_hex(p[2]);

			if (lo < 0)
				return -1;
			c = hi * 16 + lo;
			p += 2;
		}
		if (c == 0 || n + 1 >= sizeof(text))
			return -1;
		text[n++] = (char)c;
	}
	text[n] = '\0';
	return util_parse_time(text, t, frac) == 0 ? 1 : -1;
}

/* The balance after the caller's last entry at or before second at. */
static enum db_rc
statement_balance_at(
    struct db *db, const struct ctx *ctx, int64_t at, int64_t *balance)
{
	char at_sql[UTIL_SQL_TIME_SIZE];
	struct db_val in[2], out[] = {DB_I64_OUT()};
	enum db_rc rc;

	util_format_sql_time(at_sql, at);
	in[0] = DB_I64_IN(ctx->user_id);
	in[1] = DB_STR_IN(at_sql, strlen(at_sql));
	rc = db_row(db, STMT_BALANCE_AT, in, 2, out, 1);
	if (rc == DB_NOT_FOUND) {
		/* API.md: "0.00" before the first movement. */
		*balance = 0;
		return DB_OK;
	}
	if (rc == DB_OK) {
		/* Every user entry carries its balance, within the cap. */
		assert(!out[0].is_null);
		assert(
		    out[0].i64 >= 0 && out[0].i64 <= MONEY_BALANCE_MAX_MINOR);
		*balance = out[0].i64;
	}
	return rc;
}

/* What a read of db_read() needs: a balance at from, or [from, to). */
struct statement_read {
	struct ctx *ctx;
	int64_t from, to;
	bool csv;
	int64_t *balance;
	bool *too_many;
};

/* statement_balance_at() as a read for db_read() (its retry). */
static enum db_rc
statement_read_balance(struct db *db, void *arg)
{
	struct statement_read *r = arg;

	return statement_balance_at(db, r->ctx, r->from, r->balance);
}

/* statement_run() as a read for db_read() (its retry). */
static enum db_rc
statement_read_range(struct db *db, void *arg)
{
	struct statement_read *r = arg;

	return statement_run(db, r->ctx, r->from, r->to, r->csv, r->too_many);
}

bool
h_balance_at(struct ctx *ctx)
{
	char at_text[UTIL_TIME_SIZE], balance[MONEY_TEXT_SIZE_MAX];
	struct buf *b = &ctx->resp->body;
	enum db_rc rc;
	int64_t at = 0, minor = 0;
	bool frac;
	int found = statement_param(ctx->req->query, "at", &at, &frac);

	assert(ctx->user_id > 0 && ctx->username[0] != '\0');
	if (found == 0)
		return false;
	/* A time to the second's fraction is still within its second. */
	if (found < 0 || at > (int64_t)time(NULL)) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The parameter \"at\" must be an RFC 3339 time, not in "
		    "the future.");
		return true;
	}
	{
		struct statement_read r = {ctx, at, 0, false, &minor, NULL};

		rc = db_read(ctx->db, statement_read_balance, &r);
	}
	if (rc != DB_OK) {
		handler_db_error(ctx, rc);
		return true;
	}
	money_format(minor, balance);
	util_format_time(at_text, at);
	buf_reset(b);
	(void)buf_puts(b, "{\"username\":");
	(void)buf_json_str(b, ctx->username);
	(void)buf_printf(b,
	    ",\"balance\":\"%s\",\"currency\":\"USD\",\"at\":\"%s\"}", balance,
	    at_text);
	ctx->resp->status = 200;
	return true;
}

/* Appends s as an RFC 4180 quoted field: "..." with " doubled. */
static void
statement_csv_str(struct buf *b, const char *s)
{
	(void)buf_puts(b, "\"");
	for (const char *q; (q = strchr(s, '"')) != NULL; s = q + 1) {
		(void)buf_append(b, s, (size_t)(q - s));
		(void)buf_puts(b, "\"\"");
	}
	(void)buf_puts(b, s);
	(void)buf_puts(b, "\"");
}

/* One entry as a CSV record; text fields quoted, numbers bare. */
static void
statement_row_csv(struct buf *b, const struct entry_row *row)
{
	const struct db_val *v = row->out;
	char amount[MONEY_TEXT_SIZE_MAX], fee[MONEY_TEXT_SIZE_MAX];
	char after[MONEY_TEXT_SIZE_MAX];

	money_format(v[ENTRY_COL_AMOUNT].i64, amount);
	money_format(entry_row_fee(row), fee);
	money_format(v[ENTRY_COL_BALANCE_AFTER].i64, after);
	(void)buf_printf(b, "%" PRId64 ",", v[ENTRY_COL_ID].i64);
	statement_csv_str(b, row->type);
	(void)buf_printf(b, ",%s,%s,", amount, fee);
	if (!v[ENTRY_COL_COUNTERPARTY].is_null)
		statement_csv_str(b, row->counterparty);
	(void)buf_printf(b, ",%s,", after);
	statement_csv_str(b, row->created_at);
	(void)buf_puts(b, ",");
	if (!v[ENTRY_COL_TRANSFER_ID].is_null)
		(void)buf_printf(b, "%" PRId64, v[ENTRY_COL_TRANSFER_ID].i64);
	(void)buf_puts(b, "\r\n");
}

/*
 * Adds one entry to the sums: a credit to in, a debit (fee included) to
 * out, and the fee of a debit also to fees. Returns 0, or -1 when its balance
 * does not follow from the one before (the ledger would be broken).
 */
static int
statement_add(struct statement_sum *sum, const struct entry_row *row)
{
	int64_t delta = row->out[STATEMENT_COL_DELTA].i64, expect;
	int64_t after = row->out[ENTRY_COL_BALANCE_AFTER].i64;

	if (row->out[ENTRY_COL_BALANCE_AFTER].is_null)
		return -1;
	if (sum->count == 0 &&
	    money_sub(after, delta, &sum->opening) != MONEY_OK)
		return -1;
	if (sum->count == 0)
		sum->last_after = sum->opening;
	/* |delta| and every balance are far below INT64_MAX (bounds.h). */
	if (money_add(sum->last_after, delta, &expect) != MONEY_OK ||
	    expect != after)
		return -1;
	if (delta >= 0 && money_add(sum->in, delta, &sum->in) != MONEY_OK)
		return -1;
	if (delta < 0 && money_sub(sum->out, delta, &sum->out) != MONEY_OK)
		return -1;
	/* A fee paid is part of a debit; the fee a reversal gives back
	 * (reversal_in) is money in, not a fee. */
	if (delta < 0 &&
	    money_add(sum->fees, entry_row_fee(row), &sum->fees) != MONEY_OK)
		return -1;
	sum->last_after = after;
	sum->count++;
	return 0;
}

/*
 * Writes the entries of [from, to) into the response, oldest first, and
 * adds them up. DB_OK with sum->count > STATEMENT_ENTRIES_MAX when the
 * range holds more (what was written is then to be thrown away).
 */
static enum db_rc
statement_entries(struct db *db, struct ctx *ctx, int64_t from, int64_t to,
    bool csv, struct statement_sum *sum)
{
	char from_sql[UTIL_SQL_TIME_SIZE], to_sql[UTIL_SQL_TIME_SIZE];
	struct buf *b = &ctx->resp->body;
	struct entry_row row;
	struct db_val in[4];
	enum db_rc rc;

	util_format_sql_time(from_sql, from);
	util_format_sql_time(to_sql, to);
	in[0] = DB_I64_IN(ctx->user_id);
	in[1] = DB_STR_IN(from_sql, strlen(from_sql));
	in[2] = DB_STR_IN(to_sql, strlen(to_sql));
	/* One more than allowed says that the range holds too many. */
	in[3] = DB_I64_IN(STATEMENT_ENTRIES_MAX + 1);
	entry_row_bind(&row);
	row.out[STATEMENT_COL_DELTA] = DB_I64_OUT();
	rc = db_query(
	    db, STMT_STATEMENT, in, 4, row.out, STATEMENT_COL_DELTA + 1);
	if (rc != DB_OK)
		return rc;
	while ((rc = db_fetch(db, STMT_STATEMENT)) == DB_OK) {
		if (sum->count == STATEMENT_ENTRIES_MAX) {
			sum->count++;
			break;
		}
		if (csv)
			statement_row_csv(b, &row);
		else
			entry_row_json(b, &row, sum->count == 0);
		if (statement_add(sum, &row) != 0) {
			log_event(LOG_ERROR, "statement_broken",
			    "uid=%" PRId64 " movement=%" PRId64, ctx->user_id,
			    row.out[ENTRY_COL_ID].i64);
			rc = DB_ERROR;
			break;
		}
	}
	db_query_end(db, STMT_STATEMENT);
	return rc == DB_NOT_FOUND ? DB_OK : rc;
}

/* The JSON statement up to its entries: what is known before them. */
static void
statement_head(struct ctx *ctx, int64_t from, int64_t to)
{
	char from_text[UTIL_TIME_SIZE], to_text[UTIL_TIME_SIZE];
	struct buf *b = &ctx->resp->body;

	util_format_time(from_text, from);
	util_format_time(to_text, to);
	(void)buf_puts(b, "{\"username\":");
	(void)buf_json_str(b, ctx->username);
	(void)buf_printf(b,
	    ",\"currency\":\"USD\",\"from\":\"%s\",\"to\":\"%s\","
	    "\"entries\":[",
	    from_text, to_text);
}

/* The JSON statement after its entries: the balances and the totals. */
static void
statement_tail(struct ctx *ctx, const struct statement_sum *sum)
{
	char opening[MONEY_TEXT_SIZE_MAX], closing[MONEY_TEXT_SIZE_MAX];
	char in[MONEY_TEXT_SIZE_MAX], out[MONEY_TEXT_SIZE_MAX];
	char fees[MONEY_TEXT_SIZE_MAX];

	money_format(sum->opening, opening);
	money_format(sum->last_after, closing);
	money_format(sum->in, in);
	money_format(sum->out, out);
	money_format(sum->fees, fees);
	(void)buf_printf(&ctx->resp->body,
	    "],\"opening_balance\":\"%s\",\"closing_balance\":\"%s\","
	    "\"total_in\":\"%s\",\"total_out\":\"%s\",\"total_fees\":\"%s\"}",
	    opening, closing, in, out, fees);
}

/*
 * The statement of [from, to) into the response, or *too_many when the
 * range holds more than STATEMENT_ENTRIES_MAX entries. The opening
 * balance is the one before the range's first entry, read with the
 * entries in one statement; with no entry, the balance at from - 1 s.
 */
static enum db_rc
statement_run(struct db *db, struct ctx *ctx, int64_t from, int64_t to,
    bool csv, bool *too_many)
{
	struct buf *b = &ctx->resp->body;
	struct statement_sum sum;
	int64_t closing;
	enum db_rc rc;

	memset(&sum, 0, sizeof(sum));
	buf_reset(b);
	if (csv)
		(void)buf_puts(b, statement_csv_head);
	else
		statement_head(ctx, from, to);
	rc = statement_entries(db, ctx, from, to, csv, &sum);
	*too_many = sum.count > STATEMENT_ENTRIES_MAX;
	if (rc != DB_OK || *too_many)
		return rc;
	if (sum.count == 0) {
		rc = statement_balance_at(db, ctx, from - 1, &sum.opening);
		if (rc != DB_OK)
			return rc;
		sum.last_after = sum.opening;
	}
	/* API.md: opening + in - out = closing, exactly. */
	if (money_add(sum.opening, sum.in, &closing) != MONEY_OK ||
	    money_sub(closing, sum.out, &closing) != MONEY_OK)
		assert(!"statement sums overflowed");
	assert(closing == sum.last_after);
	assert(sum.fees <= sum.out);
	if (!csv)
		statement_tail(ctx, &sum);
	return DB_OK;
}

void
h_statement(struct ctx *ctx)
{
	const char *q = ctx->req->query;
	bool csv = http_accepts_csv(ctx->req->accept), frac_from, frac_to;
	int64_t from = 0, to = 0;
	int has_from = statement_param(q, "from", &from, &frac_from);
	int has_to = statement_param(q, "to", &to, &frac_to);
	bool too_many = false;
	enum db_rc rc;

	assert(ctx->user_id > 0);
	if (has_from <= 0 || has_to <= 0) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    has_from <= 0 ? "The parameter \"from\" must be an RFC "
		                    "3339 time."
		                  : "The parameter \"to\" must be an RFC 3339 "
		                    "time.");
		return;
	}
	/* Whole seconds: s >= from.5 is s >= from + 1 (docs/money.md). */
	from += frac_from;
	to += frac_to;
	if (from >= to || to - from > STATEMENT_RANGE_S_MAX) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The parameter \"from\" must come before \"to\", at "
		    "most 366 days before it.");
		return;
	}
	{
		struct statement_read r = {ctx, from, to, csv, NULL, &too_many};

		rc = db_read(ctx->db, statement_read_range, &r);
	}
	if (rc != DB_OK) {
		handler_db_error(ctx, rc);
		return;
	}
	if (too_many) {
		http_error(ctx->resp, API_RANGE_TOO_LARGE, NULL);
		return;
	}
	if (csv)
		ctx->resp->content_type = "text/csv; charset=utf-8";
	ctx->resp->status = 200;
}
