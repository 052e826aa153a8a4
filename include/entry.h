/*
 * One ledger entry of a user as the API shows it, shared by GET
 * /transactions (h_transactions.c) and GET /statement (h_statement.c),
 * so that both write the same object for the same entry (API.md: the
 * statement's entries are "as in /transactions").
 */
#ifndef ENTRY_H
#define ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "bounds.h"
#include "buf.h"
#include "db.h"
#include "util.h"

/* A username read back from the database: utf8mb4 is 4 bytes a char. */
#define ENTRY_NAME_SIZE_MAX (USERNAME_LEN_MAX * 4 + 1)

/* The columns every query of entries selects first, in this order. */
enum entry_col {
	ENTRY_COL_ID,            /* the movement's id */
	ENTRY_COL_TYPE,          /* entries.type */
	ENTRY_COL_AMOUNT,        /* the movement's amount */
	ENTRY_COL_FEE,           /* the movement's fee */
	ENTRY_COL_COUNTERPARTY,  /* the other user's name, NULL: a deposit */
	ENTRY_COL_BALANCE_AFTER, /* the user's balance after it */
	ENTRY_COL_CREATED_AT,    /* RFC 3339, formatted by the query */
	ENTRY_COL_TRANSFER_ID,   /* NULL but for a reversal's entries */
	ENTRY_COL__MAX
};

/* A row of such a query; a query may select more columns after these. */
struct entry_row {
	char type[ENTRY_TYPE_SIZE_MAX];
	char counterparty[ENTRY_NAME_SIZE_MAX];
	char created_at[UTIL_TIME_SIZE + 8];
	struct db_val out[DB_COLUMN_COUNT_MAX];
};

/* Binds row->out[0..ENTRY_COL__MAX) to the row's own buffers. */
void entry_row_bind(struct entry_row *row);
/*
 * The entry's fee: the sender's, on transfer_out, and given back on
 * reversal_in; 0 for anyone else.
 */
int64_t entry_row_fee(const struct entry_row *row);
/*
 * Appends the entry as a JSON object, {"id","type","amount","fee",
 * "counterparty","balance_after","created_at"} and "transfer_id" for an
 * entry of a movement linked to a transfer (a reversal), after a comma
 * unless first.
 */
void entry_row_json(struct buf *b, const struct entry_row *row, bool first);

#endif /* ENTRY_H */
