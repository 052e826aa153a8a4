/*
 * Goal: requests a worker takes together (app/worker.c): reads and transfers
 * queued behind stopped workers are served in batches, each client gets
 * its own answer, and a batch that times out on a held row runs again
 * transfer by transfer, each applied once.
 */
#include <ctype.h>
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "money_util.h"

Suite *batching_suite(void);

/*
 * Readers of GET /balance and GET /transactions at once, each its own user
 * with its own amount; a worker takes such requests in batches and reads
 * their users in one statement (app/worker.c, auth_users_load), so every
 * answer must still be its own caller's, and a deleted user's 401. The
 * workers are stopped (SIGSTOP) while the readers send their first
 * requests, which therefore wait on the listening sockets together and
 * are taken in batches when the workers go on (SIGCONT) once all of them
 * wait there.
 */
#define BATCH_READERS 24
#define BATCH_ROUNDS 10

struct batch_reader {
	struct user u;
	char amount[32]; /* its one top-up, and so its balance */
	bool gone;       /* deleted: every answer is 401 */
	int wrong;       /* answers that were not its own */
	char seen[256];  /* the first of them */
};

/* Every worker of both app instances (children of their masters). */
#define BATCH_WORKERS_SIGNAL                                                   \
	"for f in \"$STACK_DIR\"/payd*.pid; do "                               \
	"pkill -%s -P \"$(cat \"$f\")\" || exit 1; done"

/*
 * The connections waiting on the listening sockets of both app instances
 * (a listening socket's Recv-Q in ss(8)).
 */
#define BATCH_QUEUED                                                           \
	"$(ss -xlH | awk -v d=\"$STACK_DIR/\" 'index($5, d \"payd\") == 1 "    \
	"{ q += $3 } END { print q + 0 }')"

/*
 * The start of client i of a batch test: the last one (i == last) waits
 * until the other clients' first requests all wait on the listening
 * sockets, lets the stopped workers go on, and exits; the others get an
 * answer to fill.
 */
static struct resp *
batch_client(int i, int last)
{
	struct resp *resp;

	if (i == last) {
		int queued = stack_wait("[ " BATCH_QUEUED " -ge %d ]", last);
		int cont = stack_cmd(BATCH_WORKERS_SIGNAL, "CONT");

		_exit(queued == 0 && cont == 0 ? 0 : 1);
	}
	resp = calloc(1, sizeof(*resp));
	if (resp == NULL)
		_exit(2);
	return resp;
}

static bool
batch_answer_ok(
    const struct batch_reader *r, const struct resp *resp, bool history_read)
{
	struct json_object *list, *e;

	if (r->gone)
		return resp->status == 401 &&
		       strcmp(resp_err(resp), "unauthorized") == 0;
	if (resp->status != 200)
		return false;
	if (!history_read)
		return strcmp(resp_str(resp, "username"), r->u.name) == 0 &&
		       strcmp(resp_str(resp, "balance"), r->amount) == 0;
	if (!json_object_object_get_ex(resp->json, "transactions", &list) ||
	    json_object_array_length(list) != 1)
		return false;
	e = json_object_array_get_idx(list, 0);
	return json_object_object_get_ex(e, "amount", &e) &&
	       strcmp(json_object_get_string(e), r->amount) == 0;
}

/* Client i < BATCH_READERS reads; the last one lets the workers go on. */
static void
batch_read(int i, void *arg)
{
	struct batch_reader *r = (struct batch_reader *)arg + i;
	struct resp *resp = batch_client(i, BATCH_READERS);

	for (int k = 0; k < BATCH_ROUNDS * 2; k++) {
		bool history_read = k % 2 == 1;

		if (api("GET", history_read ? "/transactions" : "/balance",
		        r->u.token, NULL, NULL, resp) != 0)
			_exit(3);
		if (!batch_answer_ok(r, resp, history_read) && r->wrong++ == 0)
			(void)snprintf(r->seen, sizeof(r->seen), "%ld %.200s",
			    resp->status, resp->body);
		resp_free(resp);
	}
	free(resp);
}

START_TEST(test_balance_get__batched_readers__each_own_answer)
{
	struct batch_reader *rs = shared(sizeof(*rs) * BATCH_READERS);

	for (int i = 0; i < BATCH_READERS; i++) {
		make_user(&rs[i].u, "batchrd");
		rs[i].gone = i % 4 == 3;
		/* Only a user without money is deleted: the ledger stays whole.
		 */
		if (rs[i].gone) {
			ck_assert_int_eq(
			    stack_cmd("stack_sql \"$STACK_DIR\" \"DELETE FROM "
			              "payd.users WHERE id=%lld\"",
			        rs[i].u.id),
			    0);
			continue;
		}
		(void)snprintf(
		    rs[i].amount, sizeof(rs[i].amount), "%d.%02d", i + 1, i);
		ck_assert_int_eq(top_up(rs[i].u.token, rs[i].amount), 200);
	}
	ck_assert_int_eq(stack_cmd(BATCH_WORKERS_SIGNAL, "STOP"), 0);
	run_clients(BATCH_READERS + 1, batch_read, rs);
	for (int i = 0; i < BATCH_READERS; i++)
		ck_assert_msg(rs[i].wrong == 0, "reader %d (%s): %d wrong, %s",
		    i, rs[i].gone ? "deleted" : "live", rs[i].wrong,
		    rs[i].seen);
	/* They were read in batches, found and refused alike. */
	ck_assert_int_eq(stack_cmd("grep -Eq 'route=balance_get status=200 "
	                           ".* user=batchrd[0-9a-z]+ .* batch=[2-8]$' "
	                           "\"$STACK_DIR\"/payd*.log"),
	    0);
	ck_assert_int_eq(stack_cmd("grep -Eq 'route=balance_get status=401 "
	                           ".* user=batchrd[0-9a-z]+ .* batch=[2-8]$' "
	                           "\"$STACK_DIR\"/payd*.log"),
	    0);
	munmap(rs, sizeof(*rs) * BATCH_READERS);
}
END_TEST

/*
 * Payers of POST /transfer at once, queued behind stopped workers as the
 * readers above, so that workers take them in batches and run each batch
 * in one transaction (app/h_transfer.c h_transfer_batch, CALL
 * payd_transfer_many). Every answer must be its own payer's, with the
 * payer's own balance after it, and a refusal in a batch must refuse that
 * transfer alone. Payer i by role (i % 6):
 *   0-2: pays the merchant 1.00 a round, by name and by id in turn: 201;
 *   3:   has 0.50: 422 insufficient_funds, every round;
 *   4:   pays a user that does not exist (404) and itself by name (400),
 *        in turn;
 *   5:   is deleted: 401.
 */
#define BATCH_PAYERS 24

enum batch_role {
	BATCH_PAYS,
	BATCH_POOR = 3,
	BATCH_ASTRAY,
	BATCH_GONE,
	BATCH_ROLES
};

struct batch_payer {
	struct user u;
	enum batch_role role;
	long long start_minor; /* its balance before the rounds */
	long long fee_minor;   /* the fee of its 201s (all alike) */
	int ok;                /* its 201s */
	int wrong;             /* answers not as its role says */
	char seen[256];        /* the first of them */
};

static struct user batch_merchant;

/* The k-th answer (0-based) of payer p is as its role says. */
static bool
batch_paid_ok(struct batch_payer *p, int k, const struct resp *resp)
{
	long long left;

	switch (p->role) {
	case BATCH_POOR:
		return resp->status == 422 &&
		       strcmp(resp_err(resp), "insufficient_funds") == 0;
	case BATCH_ASTRAY:
		if (k % 2 == 0)
			return resp->status == 404 &&
			       strcmp(resp_err(resp), "recipient_not_found") ==
			           0;
		return resp->status == 400 &&
		       strcmp(resp_err(resp), "invalid_request") == 0;
	case BATCH_GONE:
		return resp->status == 401 &&
		       strcmp(resp_err(resp), "unauthorized") == 0;
	default:
		break;
	}
	if (resp->status != 201 ||
	    strcmp(resp_str(resp, "from"), p->u.name) != 0 ||
	    strcmp(resp_str(resp, "to"), batch_merchant.name) != 0 ||
	    strcmp(resp_str(resp, "amount"), "1.00") != 0)
		return false;
	if (p->ok == 0)
		p->fee_minor = minor_of(resp_str(resp, "fee"));
	else if (minor_of(resp_str(resp, "fee")) != p->fee_minor)
		return false;
	/* Only this payer debits its account: each answer one step lower. */
	left = p->start_minor - (p->ok + 1) * (100 + p->fee_minor);
	if (minor_of(resp_str(resp, "balance")) != left)
		return false;
	p->ok++;
	return true;
}

/* Client i < BATCH_PAYERS pays; the last one lets the workers go on. */
static void
batch_pay(int i, void *arg)
{
	struct batch_payer *p = (struct batch_payer *)arg + i;
	struct resp *resp = batch_client(i, BATCH_PAYERS);
	char body[256], upper[40];

	for (size_t c = 0; c < sizeof(upper); c++)
		upper[c] = (char)toupper((unsigned char)p->u.name[c]);
	for (int k = 0; k < BATCH_ROUNDS; k++) {
		if (p->role == BATCH_ASTRAY)
			(void)snprintf(body, sizeof(body),
			    "{\"to\":\"%s\",\"amount\":\"1.00\"}",
			    k % 2 == 0 ? "nosuchpayee" : upper);
		else if (k % 2 == 1)
			(void)snprintf(body, sizeof(body),
			    "{\"to_id\":%lld,\"amount\":\"1.00\"}",
			    batch_merchant.id);
		else
			(void)snprintf(body, sizeof(body),
			    "{\"to\":\"%s\",\"amount\":\"1.00\"}",
			    batch_merchant.name);
		if (api("POST", "/transfer", p->u.token, body, NULL, resp) != 0)
			_exit(3);
		if (!batch_paid_ok(p, k, resp) && p->wrong++ == 0)
			(void)snprintf(p->seen, sizeof(p->seen),
			    "%d: %ld %.200s", k, resp->status, resp->body);
		resp_free(resp);
	}
	free(resp);
}

/* In the log: a transfer of a batch of two or more answered status. */
static int
batch_logged(int status)
{
	return stack_cmd("grep -Eq 'route=transfer status=%d "
	                 ".* user=batchtx[0-9a-z]+ .* batch=[2-8]$' "
	                 "\"$STACK_DIR\"/payd*.log",
	    status);
}

START_TEST(test_transfer__batched__each_own_answer_money_conserved)
{
	struct batch_payer *ps = shared(sizeof(*ps) * BATCH_PAYERS);
	int payers = 0;

	make_user(&batch_merchant, "batchm");
	for (int i = 0; i < BATCH_PAYERS; i++) {
		struct batch_payer *p = &ps[i];

		make_user(&p->u, "batchtx");
		p->role = (enum batch_role)(i % BATCH_ROLES);
		if (p->role == BATCH_GONE) {
			ck_assert_int_eq(
			    stack_cmd("stack_sql \"$STACK_DIR\" \"DELETE FROM "
			              "payd.users WHERE id=%lld\"",
			        p->u.id),
			    0);
			continue;
		}
		fund(&p->u, p->role == BATCH_POOR ? "0.50" : "100.00");
		p->start_minor = p->role == BATCH_POOR ? 50 : 10000;
		payers += p->role < BATCH_POOR;
	}
	ck_assert_int_eq(stack_cmd(BATCH_WORKERS_SIGNAL, "STOP"), 0);
	run_clients(BATCH_PAYERS + 1, batch_pay, ps);
	for (int i = 0; i < BATCH_PAYERS; i++) {
		struct batch_payer *p = &ps[i];

		ck_assert_msg(p->wrong == 0, "payer %d (role %d): %d wrong, %s",
		    i, p->role, p->wrong, p->seen);
		if (p->role == BATCH_GONE)
			continue;
		ck_assert_int_eq(balance_minor(&p->u),
		    p->start_minor - p->ok * (100 + p->fee_minor));
	}
	ck_assert_int_eq(balance_minor(&batch_merchant),
	    (long long)payers * BATCH_ROUNDS * 100);
	ck_assert_int_eq(run_audit(), 0);
	/* They ran in batches: moved, refused and denied alike. */
	ck_assert_int_eq(batch_logged(201), 0);
	ck_assert_int_eq(batch_logged(422), 0);
	ck_assert_int_eq(batch_logged(404), 0);
	ck_assert_int_eq(batch_logged(400), 0);
	ck_assert_int_eq(batch_logged(401), 0);
	munmap(ps, sizeof(*ps) * BATCH_PAYERS);
}
END_TEST

/*
 * A batch whose transaction times out on a lock rolls back whole, and its
 * transfers run again each on its own (ledger_transfer_batch): every one
 * is applied exactly once. The merchant's row is held
 * (hold_user_row_until_log, until the app falls back) while the payers'
 * first transfers queue behind the stopped workers, so the first batches
 * wait on it past the lock wait.
 */
#define FALLBACK_PAYERS 8

static struct user fallback_payers[FALLBACK_PAYERS];

static void
fallback_pay(int i, void *arg)
{
	struct resp *resp = batch_client(i, FALLBACK_PAYERS);

	(void)arg;
	for (int k = 0; k < 3; k++) {
		char body[256];

		(void)snprintf(body, sizeof(body),
		    "{\"to\":\"%s\",\"amount\":\"1.00\"}", batch_merchant.name);
		if (api("POST", "/transfer", fallback_payers[i].token, body,
		        NULL, resp) != 0 ||
		    resp->status != 201)
			_exit(4);
		resp_free(resp);
	}
	free(resp);
}

START_TEST(test_transfer__batch_lock_wait__each_runs_alone_once)
{
	make_user(&batch_merchant, "fbm");
	for (int i = 0; i < FALLBACK_PAYERS; i++) {
		make_user(&fallback_payers[i], "fbtx");
		fund(&fallback_payers[i], "10.00");
	}
	hold_user_row_until_log(
	    batch_merchant.id, "event=batch_fallback route=transfer");
	ck_assert_int_eq(stack_cmd(BATCH_WORKERS_SIGNAL, "STOP"), 0);
	run_clients(FALLBACK_PAYERS + 1, fallback_pay, NULL);
	for (int i = 0; i < FALLBACK_PAYERS; i++)
		ck_assert_int_eq(
		    balance_minor(&fallback_payers[i]), 1000 - 3 * (100 + 75));
	ck_assert_int_eq(
	    balance_minor(&batch_merchant), FALLBACK_PAYERS * 3 * 100);
	ck_assert_int_eq(stack_cmd("grep -q 'event=batch_fallback "
	                           "route=transfer' \"$STACK_DIR\"/payd*.log"),
	    0);
	ck_assert_int_eq(run_audit(), 0);
}
END_TEST

Suite *
batching_suite(void)
{
	Suite *s = suite_create("batching");
	TCase *tc = tcase_create("batching");

	tcase_add_checked_fixture(tc, resp_setup, resp_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_balance_get__batched_readers__each_own_answer);
	tcase_add_test(
	    tc, test_transfer__batched__each_own_answer_money_conserved);
	tcase_add_test(
	    tc, test_transfer__batch_lock_wait__each_runs_alone_once);
	suite_add_tcase(s, tc);
	return s;
}
