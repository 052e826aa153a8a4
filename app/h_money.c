/*
 * The HTTP side of the money routes: include/h_money.h.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "h_money.h"
#include "handler.h"
#include "idem.h"
#include "jsonio.h"
#include "ledger_hold.h"
#include "log.h"
#include "metrics.h"
#include "money.h"
#include "util.h"

static void h_money_body(struct ctx *ctx, const struct ledger_req *req,
    const struct ledger_res *res);
static enum db_rc h_money_moved(struct ctx *ctx, const struct ledger_req *req,
    const struct ledger_res *res);
static bool h_money_again(int64_t deadline_ms, int64_t attempt_ms,
    const char *log_name, unsigned *attempt);
static void h_money_answer_of(
    const struct ctx *ctx, int status, struct idem_answer *a);
static enum idem_rc h_money_replay(struct ctx *ctx, const struct idem_key *k);
static enum db_rc h_money_store(
    struct ctx *ctx, const struct idem_key *k, int status);
static void h_money_record(struct ctx *ctx, const struct idem_key *k);
static void h_money_refuse(
    struct ctx *ctx, const struct ledger_req *req, enum api_err err);
static struct idem_key h_money_key(const struct ledger_req *req);

int
h_money_read(struct ctx *ctx, struct ledger_req *req, struct json_object **obj)
{
	*obj = NULL;
	req->user_id = ctx->user_id;
	req->username = ctx->username;
	req->token_gen = ctx->token_gen;
	req->deadline_ms = ctx->deadline_ms;
	req->log_name = ctx->route;
	if (handler_idem_key(ctx, &req->idem_key) != 0)
		return -1;
	*obj = handler_body_object(ctx);
	if (*obj == NULL)
		return -1;
	if (handler_read_amount(ctx, *obj, &req->amount_minor) != 0) {
		json_object_put(*obj);
		*obj = NULL;
		return -1;
	}
	assert(req->amount_minor > 0);
	assert(req->amount_minor <= MONEY_AMOUNT_MAX_MINOR);
	return 0;
}

/* The key of req, as the Idempotency-Key protocol names it. */
static struct idem_key
h_money_key(const struct ledger_req *req)
{
	return (struct idem_key){
	    .user_id = req->user_id, .key = req->idem_key, .canon = req->canon};
}

/*
 * The body of a movement: docs/api.md POST /balance {"username",
 * "balance","currency"}, POST /transfer {"id","from","to","amount","fee",
 * "balance","created_at"}.
 */
static void
h_money_body(
    struct ctx *ctx, const struct ledger_req *req, const struct ledger_res *res)
{
	char at[UTIL_TIME_SIZE];

	if (req->kind == LEDGER_DEPOSIT) {
		handler_balance_body(ctx, res->balance_minor);
		return;
	}
	util_format_time(at, res->at_s);
	buf_reset(&ctx->resp->body);
	h_money_transfer_write(&ctx->resp->body,
	    &(struct h_money_transfer){res->movement_id, ctx->username,
	        res->to_name, req->amount_minor, req->fee_minor,
	        res->balance_minor, at});
}

/*
 * A movement done: its answer, stored under the key and committed with
 * it when the CALL left it open (idem_finish). The status is set only
 * once it is committed; only then does it count. Returns how the commit
 * went, answering nothing when it failed (the caller does).
 */
static enum db_rc
h_money_moved(
    struct ctx *ctx, const struct ledger_req *req, const struct ledger_res *res)
{
	int status = req->kind == LEDGER_DEPOSIT ? 200 : 201;
	struct idem_key k = h_money_key(req);
	enum db_rc rc;

	h_money_body(ctx, req, res);
	if (res->open && (rc = h_money_store(ctx, &k, status)) != DB_OK)
		return rc;
	ctx->resp->status = status;
	if (req->kind == LEDGER_DEPOSIT)
		metrics_deposit(req->amount_minor);
	else
		metrics_transfer(req->amount_minor, req->fee_minor);
	return DB_OK;
}

/* The answer written in ctx->resp, as idem.h stores it, with status. */
static void
h_money_answer_of(const struct ctx *ctx, int status, struct idem_answer *a)
{
	const struct buf *b = &ctx->resp->body;

	assert(!b->overflow && b->len > 0 && b->len <= IDEM_RESPONSE_SIZE_MAX);
	a->code = status;
	a->body = b->data;
	a->len = b->len;
}

/*
 * Stores the answer written in ctx->resp under k, with status, in the
 * transaction the CALL left open, and commits both (idem_finish). Returns
 * DB_OK, or how it failed (rolled back); the caller answers that.
 */
static enum db_rc
h_money_store(struct ctx *ctx, const struct idem_key *k, int status)
{
	struct idem_answer a;

	h_money_answer_of(ctx, status, &a);
	return idem_finish(ctx->db, k, &a);
}

/*
 * Answers what the key already holds. Returns IDEM_GONE, answering
 * nothing, when the key is gone (purged meanwhile): run again.
 */
static enum idem_rc
h_money_replay(struct ctx *ctx, const struct idem_key *k)
{
	enum db_rc rc = DB_OK;
	int code = 0;
	enum idem_rc irc =
	    idem_replay(ctx->db, k, &code, &ctx->resp->body, &rc);

	switch (irc) {
	case IDEM_FOUND:
		ctx->resp->status = code;
		(void)http_header(ctx->resp, "Idempotent-Replayed", "true");
		break;
	case IDEM_REUSED:
		http_error(ctx->resp, API_IDEM_KEY_REUSED, NULL);
		break;
	case IDEM_PENDING:
		http_error(ctx->resp, API_REQUEST_IN_PROGRESS, NULL);
		break;
	case IDEM_GONE:
		break;
	default:
		handler_db_error(ctx, rc);
		break;
	}
	return irc;
}

/*
 * The business refusal written in ctx->resp (403, 404, 422), recorded
 * under k, if it has a key, so that a retry gets the same answer; or what
 * the key already holds.
 */
static void
h_money_record(struct ctx *ctx, const struct idem_key *k)
{
	struct idem_answer a;
	enum db_rc rc;

	if (k->key == NULL)
		return;
	h_money_answer_of(ctx, ctx->resp->status, &a);
	rc = idem_record(ctx->db, k, &a);
	if (rc == DB_DUPLICATE) {
		if (h_money_replay(ctx, k) == IDEM_GONE)
			http_error(ctx->resp, API_UNAVAILABLE, NULL);
	} else if (rc == DB_RETRY) {
		http_error(ctx->resp, API_REQUEST_IN_PROGRESS, NULL);
	} else if (rc != DB_OK) {
		/* Unrecorded, this answer could differ on a retry: 503. */
		handler_db_error(ctx, rc);
	}
}

/* A business refusal of req, recorded under its key (h_money_record). */
static void
h_money_refuse(struct ctx *ctx, const struct ledger_req *req, enum api_err err)
{
	struct idem_key k = h_money_key(req);

	http_error(ctx->resp, err, NULL);
	h_money_record(ctx, &k);
}

void
h_money_answer(
    struct ctx *ctx, const struct ledger_req *req, const struct ledger_res *res)
{
	struct idem_key k = h_money_key(req);
	enum db_rc rc;

	switch (res->outcome) {
	case LEDGER_MOVED:
		if ((rc = h_money_moved(ctx, req, res)) != DB_OK)
			handler_db_error(ctx, rc);
		break;
	case LEDGER_CALLER_GONE:
		http_error(ctx->resp, API_UNAUTHORIZED, NULL);
		break;
	case LEDGER_SELF:
		http_error(
		    ctx->resp, API_INVALID_REQUEST, H_MONEY_SELF_MESSAGE);
		break;
	case LEDGER_NO_RECIPIENT:
		h_money_refuse(ctx, req, API_RECIPIENT_NOT_FOUND);
		break;
	case LEDGER_NO_FUNDS:
		metrics_insufficient_funds();
		h_money_refuse(ctx, req, API_INSUFFICIENT_FUNDS);
		break;
	case LEDGER_OVER_CAP:
		h_money_refuse(ctx, req, API_LIMIT_EXCEEDED);
		break;
	case LEDGER_FROZEN:
		h_money_refuse(ctx, req, API_ACCOUNT_FROZEN);
		break;
	case LEDGER_KEY_TAKEN:
		if (h_money_replay(ctx, &k) == IDEM_GONE)
			http_error(ctx->resp, API_UNAVAILABLE, NULL);
		break;
	case LEDGER_KEY_BUSY:
		http_error(ctx->resp, API_REQUEST_IN_PROGRESS, NULL);
		break;
	case LEDGER_UNAVAILABLE:
		http_error(ctx->resp, API_UNAVAILABLE, NULL);
		break;
	default:
		http_error(ctx->resp, API_INTERNAL, NULL);
		break;
	}
}

/*
 * Whether a keyed movement whose COMMIT failed with a deadlock may run
 * again: up to DB_RETRY_COUNT_MAX attempts, each only while the deadline
 * (0: none) leaves time for one (attempt_ms), after a back-off.
 */
static bool
h_money_again(int64_t deadline_ms, int64_t attempt_ms, const char *log_name,
    unsigned *attempt)
{
	if (*attempt >= DB_RETRY_COUNT_MAX ||
	    (deadline_ms != 0 && util_now_ms() + attempt_ms > deadline_ms))
		return false;
	(*attempt)++;
	log_event(LOG_WARN, "db_retry", "route=%s attempt=%u stage=commit",
	    log_name, *attempt);
	db_retry_sleep(*attempt - 1);
	return true;
}

/*
 * Runs req again when its key was purged between its claim and its replay
 * (once), and when the COMMIT of a keyed movement failed with a deadlock:
 * on a Galera cluster that is a certification failure (a concurrent write
 * on another node won, often the same key's), which rolled the whole
 * transaction back, so running it again is safe; the next run replays the
 * key if the winner holds it. A lost connection at COMMIT is not run
 * again: its outcome is unknown (503, the client's key tells).
 */
void
h_money_run(struct ctx *ctx, const struct ledger_req *req)
{
	struct idem_key k = h_money_key(req);
	struct ledger_res res;
	unsigned attempt = 1;
	int gone = 0;
	enum db_rc rc;

	while (gone < 2) {
		ledger_move(ctx->db, req, &res);
		if (res.outcome == LEDGER_MOVED && res.open) {
			rc = h_money_moved(ctx, req, &res);
			if (rc == DB_RETRY && h_money_again(req->deadline_ms,
			                          ledger_attempt_ms(ctx->cfg),
			                          req->log_name, &attempt))
				continue;
			if (rc != DB_OK)
				handler_db_error(ctx, rc);
			return;
		}
		if (res.outcome != LEDGER_KEY_TAKEN) {
			h_money_answer(ctx, req, &res);
			return;
		}
		if (h_money_replay(ctx, &k) != IDEM_GONE)
			return;
		gone++;
	}
	http_error(ctx->resp, API_UNAVAILABLE, NULL);
}

void
h_money_transfer_write(struct buf *b, const struct h_money_transfer *t)
{
	char amount[MONEY_TEXT_SIZE_MAX], fee[MONEY_TEXT_SIZE_MAX];
	char balance[MONEY_TEXT_SIZE_MAX];

	assert(t->id > 0 && t->balance_minor >= 0);
	money_format(t->amount_minor, amount);
	money_format(t->fee_minor, fee);
	money_format(t->balance_minor, balance);
	(void)buf_printf(b, "{\"id\":%" PRId64 ",\"from\":", t->id);
	(void)buf_json_str(b, t->from);
	(void)buf_puts(b, ",\"to\":");
	(void)buf_json_str(b, t->to);
	(void)buf_printf(b,
	    ",\"amount\":\"%s\",\"fee\":\"%s\","
	    "\"balance\":\"%s\",\"created_at\":\"%s\"}",
	    amount, fee, balance, t->at);
}

int
h_money_caller(struct ctx *ctx, const char *canon, struct ledger_caller *who)
{
	*who = (struct ledger_caller){.user_id = ctx->user_id,
	    .user_name = ctx->username,
	    .user_gen = ctx->token_gen,
	    .canon = canon,
	    .at_s = (int64_t)time(NULL),
	    .deadline_ms = ctx->deadline_ms,
	    .attempt_ms = ledger_attempt_ms(ctx->cfg)};
	return handler_idem_key(ctx, &who->key);
}

bool
h_money_done(struct ctx *ctx, enum stmt call, const struct ledger_caller *who,
    int status, unsigned *attempt)
{
	struct idem_key k = {ctx->user_id, who->key, who->canon};

	if (who->key != NULL) {
		enum db_rc rc;

		/* The CALL left its transaction open for the answer. */
		db_txn_adopt(ctx->db, call);
		rc = h_money_store(ctx, &k, status);
		if (rc == DB_RETRY && h_money_again(who->deadline_ms,
		                          who->attempt_ms, ctx->route, attempt))
			return true;
		if (rc != DB_OK) {
			handler_db_error(ctx, rc);
			return false;
		}
	}
	ctx->resp->status = status;
	return false;
}

void
h_money_refused(struct ctx *ctx, enum ledger_state state, enum db_rc rc,
    const struct ledger_caller *who)
{
	static const enum api_err errs[LEDGER_STATE__MAX] = {
	    [LEDGER_STATE_NO_TO] = API_RECIPIENT_NOT_FOUND,
	    [LEDGER_STATE_FUNDS] = API_INSUFFICIENT_FUNDS,
	    [LEDGER_STATE_CAP] = API_LIMIT_EXCEEDED,
	    [LEDGER_STATE_FROZEN] = API_ACCOUNT_FROZEN,
	    [LEDGER_STATE_NOT_FOUND] = API_NOT_FOUND,
	    [LEDGER_STATE_FORBIDDEN] = API_FORBIDDEN,
	    [LEDGER_STATE_NOT_PENDING] = API_HOLD_NOT_PENDING,
	    [LEDGER_STATE_EXPIRED] = API_HOLD_EXPIRED,
	    [LEDGER_STATE_OVER_HOLD] = API_OVER_HOLD,
	    [LEDGER_STATE_OVER_REFUND] = API_REFUND_EXCEEDS,
	};
	struct idem_key k = {ctx->user_id, who->key, who->canon};

	assert(!ctx->db->in_txn);
	if (rc != DB_OK) {
		handler_db_error(ctx, rc);
		return;
	}
	assert(state != LEDGER_STATE_DONE && state < LEDGER_STATE__MAX);
	assert((int)state != LEDGER_STATE_RETIRED); /* the callers refuse it */
	switch (state) {
	case LEDGER_STATE_NO_USER:
		http_error(ctx->resp, API_UNAUTHORIZED, NULL);
		return;
	case LEDGER_STATE_SELF:
		http_error(ctx->resp, API_INVALID_REQUEST,
		    "The recipient must not be the caller.");
		return;
	case LEDGER_STATE_KEY_TAKEN:
		if (h_money_replay(ctx, &k) == IDEM_GONE)
			http_error(ctx->resp, API_UNAVAILABLE, NULL);
		return;
	case LEDGER_STATE_KEY_BUSY:
		http_error(ctx->resp, API_REQUEST_IN_PROGRESS, NULL);
		return;
	default:
		break;
	}
	assert(errs[state] != API_INVALID_REQUEST);
	http_error(ctx->resp, errs[state], NULL);
	h_money_record(ctx, &k);
}
