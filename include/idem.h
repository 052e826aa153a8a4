/*
 * The Idempotency-Key protocol (docs/api.md Idempotency), on the database
 * side, in one place. It knows nothing of HTTP: an answer is a code and
 * bytes that the caller gives and gets back the same.
 *
 * The key's row is claimed first in the movement's own transaction, by the
 * movement's stored procedure (sql/R__payd_claim_key.sql): a concurrent
 * request with the same key waits on its lock and, once the first has
 * committed, finds it taken (LEDGER_KEY_TAKEN) and replays the stored
 * answer (idem_replay). A movement done under a key is left open by its
 * procedure, and idem_finish() stores its answer and commits both as one
 * write. A business refusal is stored under the key too, in its own short
 * transaction (idem_record), so that a retry gets the same answer.
 * Validation errors (400) are never stored.
 */
#ifndef IDEM_H
#define IDEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "buf.h"
#include "db.h"

/* What a key holds, as idem_replay() read it. */
enum idem_rc {
	IDEM_FOUND,   /* the stored answer, for the same request */
	IDEM_REUSED,  /* the key was used with another request */
	IDEM_PENDING, /* its request still runs: no answer yet */
	IDEM_GONE,    /* no such key (purged meanwhile): run again */
	IDEM_FAILED,  /* the database failed, or the row is corrupt */
	IDEM_RC__MAX
};

/*
 * An answer to store: a code (100 to 599) and its bytes, 1 to
 * IDEM_RESPONSE_SIZE_MAX of them (a batch's answer is the largest), where
 * the caller wrote them (its response buffer): nothing is copied.
 */
struct idem_answer {
	int code;
	const char *body;
	size_t len;
};

/* One key of one user, and the canonical request it was used for. */
struct idem_key {
	int64_t user_id;
	const char *key;
	const char *canon;
};

/*
 * True when key is an acceptable Idempotency-Key: 1 to IDEM_KEY_LEN_MAX
 * printable ASCII characters (0x20 to 0x7e).
 */
bool idem_key_is_valid(const char *key);

/*
 * Reads what k holds: on IDEM_FOUND its code in *code and its bytes, as
 * stored, in body, read straight into it (body->cap must exceed
 * IDEM_RESPONSE_SIZE_MAX). body is emptied whatever the outcome. *rc gets
 * the database's outcome when IDEM_FAILED (DB_ERROR for a corrupt row).
 */
enum idem_rc idem_replay(struct db *db, const struct idem_key *k, int *code,
    struct buf *body, enum db_rc *rc);

/*
 * Stores answer under k in the transaction a movement's procedure left
 * open, then commits both. Returns DB_OK once committed, else the failure
 * (rolled back); DB_RETRY also when the transaction was already gone (its
 * claimed row no longer there unanswered): nothing of it was committed.
 */
enum db_rc idem_finish(
    struct db *db, const struct idem_key *k, const struct idem_answer *answer);

/*
 * Records a refusal under k in its own short transaction. DB_OK; or
 * DB_DUPLICATE when the key holds something already (idem_replay() says
 * what); DB_RETRY when its row is locked past the lock wait (its request
 * still runs); else the failure.
 */
enum db_rc idem_record(
    struct db *db, const struct idem_key *k, const struct idem_answer *answer);

/* Drops the keys older than ttl_s, a few at a time; *gone counts them. */
enum db_rc idem_purge(struct db *db, int64_t ttl_s, uint64_t *gone);

#endif /* IDEM_H */
