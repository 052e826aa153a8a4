/*
 * GET /transactions (API.md): the caller's own ledger entries, newest
 * first, a page at a time with a movement-id cursor.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "entry.h"
#include "handler.h"
#include "ledger.h"
#include "money.h"
#include "util.h"

_Static_assert(
    TXN_PAGE_LIMIT_MAX *ENTRY_JSON_SIZE_MAX + 64 <= HTTP_RESPONSE_SIZE_MAX,
    "a full page fits the response buffer");

/* What txn_page() writes: a page of the caller's, under the cursor. */
struct txn_page_args {
	struct ctx *ctx;
	int64_t limit, before;
};

static int txn_param(const char *query, const char *name, long long min,
    long long max, long long *out);
static enum db_rc txn_page(struct db *db, void *arg);

/*
 * Reads ?name= as an integer in [min, max] into *out, untouched when
 * absent. Returns 0, or -1 when it is empty, repeated or not a number in
 * range.
 */
static int
txn_param(const char *query, const char *name, long long min, long long max,
    long long *out)
{
	char text[TXN_PARAM_SIZE_MAX];
	int found = http_query_get(query, name, text, sizeof(text));

	if (found == 0)
		return 0;
	if (found < 0 || util_parse_ll(text, min, max, out) != 0)
		return -1;
	return 0;
}

/*
 * Writes one page into the response (a read for db_read). It fetches
 * limit + 1 rows: the extra one only says whether a next page exists, so
 * next_before is exact.
 */
static enum db_rc
txn_page(struct db *db, void *arg)
{
	const struct txn_page_args *a = arg;
	struct ctx *ctx = a->ctx;
	int64_t limit = a->limit, before = a->before;
	struct buf *b = &ctx->resp->body;
	struct db_val in[] = {
	    DB_I64_IN(ctx->user_id), DB_I64_IN(before), DB_I64_IN(limit + 1)};
	struct entry_row row;
	int64_t last_id = INT64_MAX;
	bool more = false;
	enum db_rc rc;

	entry_row_bind(&row);
	rc = db_query(db, STMT_HISTORY_PAGE, in, 3, row.out, ENTRY_COL__MAX);
	if (rc != DB_OK)
		return rc;
	buf_reset(b);
	(void)buf_puts(b, "{\"transactions\":[");
	for (int64_t n = 0; n <= limit; n++) {
		if ((rc = db_fetch(db, STMT_HISTORY_PAGE)) != DB_OK)
			break;
		if (n == limit) {
			more = true;
			break;
		}
		/* Newest first, each movement once, all before the cursor. */
		assert(row.out[0].i64 < last_id && row.out[0].i64 < before);
		last_id = row.out[0].i64;
		entry_row_json(b, &row, n == 0);
	}
	db_query_end(db, STMT_HISTORY_PAGE);
	if (rc != DB_OK && rc != DB_NOT_FOUND)
		return rc;
	if (more)
		(void)buf_printf(b, "],\"next_before\":%" PRId64 "}", last_id);
	else
		(void)buf_puts(b, "],\"next_before\":null}");
	return DB_OK;
}

void
h_transactions(struct ctx *ctx)
{
	long long limit = TXN_PAGE_LIMIT_DEFAULT, before = INT64_MAX;
	struct txn_page_args page;
	enum db_rc rc;

	assert(ctx->user_id > 0);
	if (txn_param(ctx->req->query, "limit", TXN_PAGE_LIMIT_MIN,
	        TXN_PAGE_LIMIT_MAX, &limit) != 0) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The parameter "
		    "\"limit\" must be an integer from 1 to 100.");
		return;
	}
	if (txn_param(ctx->req->query, "before", 1, INT64_MAX, &before) != 0) {
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The parameter \"before\" must be a positive integer.");
		return;
	}
	page.ctx = ctx;
	page.limit = (int64_t)limit;
	page.before = (int64_t)before;
	rc = db_read(ctx->db, txn_page, &page);
	if (rc != DB_OK) {
		handler_db_error(ctx, rc);
		return;
	}
	ctx->resp->status = 200;
}
