/*
 * A user's ledger entry as the API shows it (entry.h).
 */
#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "entry.h"
#include "money.h"

void
entry_row_bind(struct entry_row *row)
{
	row->out[ENTRY_COL_ID] = DB_I64_OUT();
	row->out[ENTRY_COL_TYPE] = DB_STR_OUT(row->type);
	row->out[ENTRY_COL_AMOUNT] = DB_I64_OUT();
	row->out[ENTRY_COL_FEE] = DB_I64_OUT();
	row->out[ENTRY_COL_COUNTERPARTY] = DB_STR_OUT(row->counterparty);
	row->out[ENTRY_COL_BALANCE_AFTER] = DB_I64_OUT();
	row->out[ENTRY_COL_CREATED_AT] = DB_STR_OUT(row->created_at);
	row->out[ENTRY_COL_TRANSFER_ID] = DB_I64_OUT();
}

int64_t
entry_row_fee(const struct entry_row *row)
{
	/* The sender pays the fee, and a reversal gives it back to it; the
	 * recipient and a deposit pay none. */
	bool has_fee = strcmp(row->type, "transfer_out") == 0 ||
	               strcmp(row->type, "reversal_in") == 0;

	return has_fee ? row->out[ENTRY_COL_FEE].i64 : 0;
}

void
entry_row_json(struct buf *b, const struct entry_row *row, bool first)
{
	const struct db_val *v = row->out;
	char amount[MONEY_TEXT_SIZE_MAX], fee[MONEY_TEXT_SIZE_MAX];
	char after[MONEY_TEXT_SIZE_MAX];

	/* Every user entry carries its balance, never below zero. */
	assert(!v[ENTRY_COL_BALANCE_AFTER].is_null &&
	       v[ENTRY_COL_BALANCE_AFTER].i64 >= 0);
	/* Only a reversal of a fully refunded transfer moves 0 (its fee). */
	assert(v[ENTRY_COL_AMOUNT].i64 > 0 ||
	       (v[ENTRY_COL_AMOUNT].i64 == 0 &&
	           !v[ENTRY_COL_TRANSFER_ID].is_null));
	assert(v[ENTRY_COL_FEE].i64 >= 0);
	money_format(v[ENTRY_COL_AMOUNT].i64, amount);
	money_format(entry_row_fee(row), fee);
	money_format(v[ENTRY_COL_BALANCE_AFTER].i64, after);
	(void)buf_printf(b, "%s{\"id\":%" PRId64 ",\"type\":", first ? "" : ",",
	    v[ENTRY_COL_ID].i64);
	(void)buf_json_str(b, row->type);
	(void)buf_printf(b,
	    ",\"amount\":\"%s\",\"fee\":\"%s\",\"counterparty\":", amount, fee);
	if (v[ENTRY_COL_COUNTERPARTY].is_null)
		(void)buf_puts(b, "null");
	else
		(void)buf_json_str(b, row->counterparty);
	(void)buf_printf(b, ",\"balance_after\":\"%s\",\"created_at\":", after);
	(void)buf_json_str(b, row->created_at);
	if (!v[ENTRY_COL_TRANSFER_ID].is_null)
		(void)buf_printf(b, ",\"transfer_id\":%" PRId64,
		    v[ENTRY_COL_TRANSFER_ID].i64);
	(void)buf_puts(b, "}");
}
