/*
 * The Idempotency-Key protocol on the database side: include/idem.h.
 */
#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "idem.h"
#include "log.h"

/* The key's own columns as statement inputs: user, key. */
#define IDEM_USER_IN(k) DB_I64_IN((k)->user_id)
#define IDEM_KEY_IN(k) DB_STR_IN((uintptr_t)(k)->key, strlen((k)->key))

bool
idem_key_is_valid(const char *key)
{
	size_t n;

	for (n = 0; key[n] != '\0'; n++) {
		unsigned char c = (unsigned char)key[n];

		if (n >= IDEM_KEY_LEN_MAX || c < 0x20 || c > 0x7e)
			return false;
	}
	return n > 0;
}

enum idem_rc
idem_replay(struct db *db, const struct idem_key *k, int *code,
    struct buf *body, enum db_rc *rc)
{
	struct db_val in[] = {
	    DB_STR_IN((uintptr_t)k->canon, strlen(k->canon)),
	    IDEM_USER_IN(k),
	    IDEM_KEY_IN(k),
	};
	struct db_val cols[] = {DB_I64_OUT(), DB_I64_OUT(),
	    {.type = DB_STR, .str = body->data, .cap = body->cap}};

	assert(body->cap > IDEM_RESPONSE_SIZE_MAX);
	buf_reset(body);
	*rc = db_row(db, STMT_IDEM_GET, in, 3, cols, 3);
	if (*rc == DB_NOT_FOUND)
		return IDEM_GONE;
	if (*rc != DB_OK)
		return IDEM_FAILED;
	if (cols[0].i64 != 1 || cols[1].is_null || cols[2].is_null) {
		buf_reset(body);
		/* Only a transaction still open has no answer yet. */
		return cols[0].i64 != 1 ? IDEM_REUSED : IDEM_PENDING;
	}
	if (cols[1].i64 < 100 || cols[1].i64 > 599 || cols[2].len == 0) {
		buf_reset(body);
		log_event(
		    LOG_ERROR, "idem_corrupt", "code=%" PRId64, cols[1].i64);
		*rc = DB_ERROR;
		return IDEM_FAILED;
	}
	*code = (int)cols[1].i64;
	body->len = cols[2].len;
	log_event(LOG_INFO, "idem_replay", "code=%d", *code);
	return IDEM_FOUND;
}

enum db_rc
idem_finish(
    struct db *db, const struct idem_key *k, const struct idem_answer *answer)
{
	struct db_val in[] = {
	    DB_I64_IN(answer->code),
	    DB_STR_IN((uintptr_t)answer->body, answer->len),
	    IDEM_USER_IN(k),
	    IDEM_KEY_IN(k),
	};
	uint64_t affected = 0;
	enum db_rc rc;

	/* Our answers fit the column; a larger one is a bug. */
	assert(answer->len > 0 && answer->len <= IDEM_RESPONSE_SIZE_MAX);
	/*
	 * Only the row this transaction claimed, still unanswered, may take
	 * the answer. On a Galera cluster a transaction that a write from
	 * another node aborted while it sat idle (the same key's winner) can
	 * be rolled back without a word, and this UPDATE then runs on its own
	 * under autocommit: it must not write over the winner's answer, nor
	 * answer for a movement that no longer exists. Nothing matched means
	 * exactly that: roll back, and let the caller run the request again
	 * (DB_RETRY), which replays the winner's answer or claims the key anew.
	 */
	rc = db_exec(db, STMT_IDEM_FINISH, in, 4, &affected);
	if (rc == DB_OK && affected != 1) {
		log_event(LOG_WARN, "idem_finish",
		    "affected=%llu reason=lost_txn",
		    (unsigned long long)affected);
		db_txn_rollback(db);
		return DB_RETRY;
	}
	/* Commits when all went well, else rolls back: the sticky error. */
	return db_txn_end(db);
}

enum db_rc
idem_record(
    struct db *db, const struct idem_key *k, const struct idem_answer *answer)
{
	enum db_rc rc;

	assert(!db->in_txn);
	assert(answer->len > 0 && answer->len <= IDEM_RESPONSE_SIZE_MAX);
	/* One statement under autocommit: its own short transaction. */
	rc = db_ensure(db);
	if (rc == DB_OK) {
		struct db_val in[] = {
		    IDEM_USER_IN(k),
		    IDEM_KEY_IN(k),
		    DB_STR_IN((uintptr_t)k->canon, strlen(k->canon)),
		    DB_I64_IN(answer->code),
		    DB_STR_IN((uintptr_t)answer->body, answer->len),
		};

		rc = db_exec(db, STMT_IDEM_INSERT, in, 5, NULL);
	}
	return rc;
}

enum db_rc
idem_purge(struct db *db, int64_t ttl_s, uint64_t *gone)
{
	struct db_val in[] = {DB_I64_IN(ttl_s)};

	*gone = 0;
	return db_exec(db, STMT_IDEM_PURGE, in, 1, gone);
}
