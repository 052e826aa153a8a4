/*
 * payd admin: the operator commands (docs/operations.md "Operator
 * commands"), run on the server with the configuration file, talking to
 * the database directly. Each command is one transaction, recorded in
 * admin_actions and logged as event=admin_action, whatever its outcome.
 * This file reads the arguments and prints; what changes money or an
 * account is in app/ledger_admin.c.
 */
#include <assert.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "username.h"
#include "bounds.h"
#include "db.h"
#include "ledger_admin.h"
#include "log.h"
#include "money.h"

/* The command line after "admin". */
struct admin_args {
	const char *cmd;           /* show, freeze, unfreeze, reverse, log */
	const char *target;        /* USER or TRANSFER_ID */
	const char *reason;        /* --reason TEXT, or NULL */
	const char *since;         /* --since TIME, or NULL */
	const char *operator_name; /* --operator NAME, or NULL */
	bool help;
};

struct admin_cmd {
	const char *name;
	const char *usage; /* after "payd admin " */
	const char *help;  /* what it does, for --help */
	bool needs_target, needs_reason;
	int (*run)(struct db *db, struct ledger_admin_act *act,
	    const struct admin_args *args);
};

static int admin_show(
    struct db *db, struct ledger_admin_act *act, const struct admin_args *args);
static int admin_freeze(
    struct db *db, struct ledger_admin_act *act, const struct admin_args *args);
static int admin_reverse(
    struct db *db, struct ledger_admin_act *act, const struct admin_args *args);
static int admin_log(
    struct db *db, struct ledger_admin_act *act, const struct admin_args *args);

static const struct admin_cmd admin_cmds[] = {
    {"show", "show USER [--reason TEXT]",
        "Prints the account USER (a username): id, balance, available,\n"
        "frozen or not and why, pending holds, and its last 20 ledger\n"
        "entries, newest first.",
        true, false, admin_show},
    {"freeze", "freeze USER --reason TEXT",
        "Freezes the account USER: from the commit on, on every app\n"
        "instance, every request that would move or reserve money out of\n"
        "it is 403 account_frozen. It can still log in, read, and receive\n"
        "money.",
        true, true, admin_freeze},
    {"unfreeze", "unfreeze USER --reason TEXT",
        "Lifts the freeze of the account USER.", true, true, admin_freeze},
    {"reverse", "reverse TRANSFER_ID --reason TEXT",
        "Undoes a transfer made in error, at most once: the recipient gives\n"
        "back what it did not refund, the sender gets it back plus the fee,\n"
        "the fee account gives back the fee. One movement of kind\n"
        "reversal, shown as reversal_out and reversal_in. Refused when the\n"
        "recipient's balance is short or the transfer is already reversed.",
        true, true, admin_reverse},
    {"log", "log [--since TIME]",
        "Prints the recorded operator actions, oldest first, since TIME\n"
        "(RFC 3339 UTC, 2026-11-26T03:15:49Z, or a date, 2026-11-26).",
        false, false, admin_log},
};

#define ADMIN_CMD_COUNT (sizeof(admin_cmds) / sizeof(admin_cmds[0]))

static void
admin_usage(FILE *out)
{
	(void)fprintf(out, "usage: payd [-c FILE] admin [--operator NAME] "
	                   "COMMAND ...\n");
	for (size_t i = 0; i < ADMIN_CMD_COUNT; i++)
		(void)fprintf(
		    out, "       payd admin %s\n", admin_cmds[i].usage);
	(void)fprintf(out,
	    "Each command is one transaction, recorded in admin_actions with\n"
	    "the operator (the OS user, or --operator NAME), and logged as\n"
	    "event=admin_action. COMMAND --help says more.\n"
	    "Exit status: 0 done, 1 refused (the reason is printed), 2 cannot\n"
	    "run (bad arguments, no database).\n");
}

/* Takes the value of an option: the next argument. */
static int
admin_opt(int argc, char **argv, int *i, const char **out)
{
	if (*i + 1 >= argc)
		return -1;
	*i += 1;
	*out = argv[*i];
	return 0;
}

static int
admin_parse(int argc, char **argv, struct admin_args *args)
{
	memset(args, 0, sizeof(*args));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		int rc = 0;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			args->help = true;
		else if (strcmp(a, "--reason") == 0)
			rc = admin_opt(argc, argv, &i, &args->reason);
		else if (strcmp(a, "--since") == 0)
			rc = admin_opt(argc, argv, &i, &args->since);
		else if (strcmp(a, "--operator") == 0)
			rc = admin_opt(argc, argv, &i, &args->operator_name);
		else if (a[0] != '-' && args->cmd == NULL)
			args->cmd = a;
		else if (a[0] != '-' && args->target == NULL)
			args->target = a;
		else
			rc = -1; /* an unknown option, or a third argument */
		if (rc != 0) {
			(void)fprintf(
			    stderr, "payd admin: bad argument %s\n", a);
			return -1;
		}
	}
	return 0;
}

/* Printable text of at most max bytes (min 1 when required). */
static bool
admin_text_is_valid(const char *s, size_t min, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/*
 * --operator, else the OS user running the command: under sudo (root with
 * SUDO_USER set) the user who ran sudo, "alice via sudo", since root
 * alone names nobody.
 */
static int
admin_operator(const struct admin_args *args, char *out, size_t size)
{
	char buf[ADMIN_PASSWD_SIZE];
	struct passwd pw, *hit = NULL;
	const char *sudo = getenv("SUDO_USER");
	int n;

	if (args->operator_name != NULL)
		return util_copy(out, size, args->operator_name);
	if (getuid() == 0 && sudo != NULL &&
	    admin_text_is_valid(sudo, 1, USERNAME_LEN_MAX)) {
		n = snprintf(out, size, "%s via sudo", sudo);
		return n > 0 && (size_t)n < size ? 0 : -1;
	}
	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &hit) == 0 &&
	    hit != NULL && hit->pw_name != NULL &&
	    util_copy(out, size, hit->pw_name) == 0)
		return 0;
	n = snprintf(out, size, "uid:%ld", (long)getuid());
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* The arguments a command needs, or 2 after saying what is wrong. */
static int
admin_check(const struct admin_cmd *c, const struct admin_args *args)
{
	const char *why = NULL;

	if (c->needs_target && args->target == NULL)
		why = "the command needs its argument";
	else if (!c->needs_target && args->target != NULL)
		why = "the command takes no argument";
	else if (c->needs_reason && args->reason == NULL)
		why = "--reason TEXT is required";
	else if (args->reason != NULL && !admin_text_is_valid(args->reason, 1,
	                                     LEDGER_ADMIN_REASON_LEN_MAX))
		why = "--reason must be 1 to 255 bytes, no control characters";
	else if (args->operator_name != NULL &&
	         !admin_text_is_valid(
	             args->operator_name, 1, LEDGER_ADMIN_OPERATOR_LEN_MAX))
		why = "--operator must be 1 to 64 bytes, no control characters";
	if (why == NULL)
		return 0;
	(void)fprintf(stderr, "payd admin %s: %s\nusage: payd admin %s\n",
	    c->name, why, c->usage);
	return 2;
}

/* One event=admin_action line with the fields admin_actions keeps. */
static void
admin_log_line(const struct ledger_admin_act *act, const char *action,
    const char *target, enum ledger_admin_rc outcome)
{
	char op[LEDGER_ADMIN_OPERATOR_LEN_MAX * 4 + 8];
	char reason[LEDGER_ADMIN_REASON_LEN_MAX * 4 + 8];
	char tgt[(ADMIN_TARGET_SIZE + USERNAME_LEN_MAX) * 4 + 8];

	(void)log_quote(op, sizeof(op), act->operator_name);
	(void)log_quote(reason, sizeof(reason), act->reason);
	(void)log_quote(tgt, sizeof(tgt), target);
	log_event(outcome == LEDGER_ADMIN_FAILED ? LOG_ERROR : LOG_INFO,
	    "admin_action",
	    "operator=%s action=%s target=%s outcome=%s "
	    "reason=%s",
	    op, action, tgt, ledger_admin_rc_name(outcome), reason);
}

/* Exit status of an outcome (docs/operations.md). */
static int
admin_exit(enum ledger_admin_rc rc, enum db_rc db_rc)
{
	if (rc == LEDGER_ADMIN_DONE)
		return 0;
	if (rc != LEDGER_ADMIN_FAILED) {
		(void)printf("refused: %s\n", ledger_admin_rc_name(rc));
		return 1;
	}
	(void)fprintf(stderr, "payd admin: the database failed (%s)%s\n",
	    db_rc_name(db_rc),
	    db_rc == DB_CONN ? "; it may have been done: see payd admin log"
	                     : "");
	return 2;
}

/* The account a USER argument names, into the users row fields. */
struct admin_user {
	int64_t id, balance_minor;
	int64_t available_minor; /* balance minus what holds reserve */
	int64_t pending_holds;   /* as payer */
	char name[ADMIN_NAME_SIZE];
	char frozen_at[UTIL_TIME_SIZE + 8];
	char frozen_reason[ADMIN_TEXT_SIZE];
	char created_at[UTIL_TIME_SIZE + 8];
};

/* DB_OK, DB_NOT_FOUND for no such username, or the failure. */
static enum db_rc
admin_find_user(struct db *db, const char *name, struct admin_user *u)
{
	struct db_val in[] = {DB_I64_IN(0), DB_STR_IN(name, strlen(name))};
	struct db_val out[] = {DB_I64_OUT(), DB_STR_OUT(u->name), DB_I64_OUT(),
	    DB_I64_OUT(), DB_I64_OUT(), DB_STR_OUT(u->frozen_at),
	    DB_STR_OUT(u->frozen_reason), DB_STR_OUT(u->created_at)};
	enum db_rc rc;

	memset(u, 0, sizeof(*u));
	if (!username_is_valid(name, strlen(name)))
		return DB_NOT_FOUND;
	rc = db_row(db, STMT_ADMIN_USER, in, 2, out, 8);
	u->id = out[0].i64;
	u->balance_minor = out[2].i64;
	u->available_minor = out[3].i64;
	u->pending_holds = out[4].i64;
	return rc;
}

/* The last ADMIN_SHOW_ENTRIES entries of user id, newest first. */
static enum db_rc
admin_show_entries(struct db *db, int64_t id)
{
	char type[16], cp[ADMIN_NAME_SIZE], at[UTIL_TIME_SIZE + 8];
	char amount[MONEY_TEXT_SIZE_MAX], fee[MONEY_TEXT_SIZE_MAX];
	char after[MONEY_TEXT_SIZE_MAX];
	struct db_val in[] = {
	    DB_I64_IN(id), DB_I64_IN(INT64_MAX), DB_I64_IN(ADMIN_SHOW_ENTRIES)};
	struct db_val out[] = {DB_I64_OUT(), DB_STR_OUT(type), DB_I64_OUT(),
	    DB_I64_OUT(), DB_STR_OUT(cp), DB_I64_OUT(), DB_STR_OUT(at),
	    DB_I64_OUT()};
	enum db_rc rc = db_query(db, STMT_HISTORY_PAGE, in, 3, out, 8);

	if (rc != DB_OK)
		return rc;
	(void)printf(
	    "last %d ledger entries, newest first:\n", ADMIN_SHOW_ENTRIES);
	while ((rc = db_fetch(db, STMT_HISTORY_PAGE)) == DB_OK) {
		money_format(out[2].i64, amount);
		money_format(out[3].i64, fee);
		money_format(out[5].i64, after);
		(void)printf("  %" PRId64 " %s %-12s amount %s fee %s "
		             "counterparty %s balance_after %s",
		    out[0].i64, at, type, amount, fee,
		    out[4].is_null ? "-" : cp, after);
		if (!out[7].is_null)
			(void)printf(" transfer %" PRId64, out[7].i64);
		(void)printf("\n");
	}
	db_query_end(db, STMT_HISTORY_PAGE);
	return rc == DB_NOT_FOUND ? DB_OK : rc;
}

/* "user 42 alice", or "user ? alice" when there is no such user. */
static void
admin_user_target(const struct admin_user *u, const char *name,
    char out[ADMIN_TARGET_SIZE + USERNAME_LEN_MAX])
{
	if (u->id > 0)
		(void)snprintf(out, ADMIN_TARGET_SIZE + USERNAME_LEN_MAX,
		    "user %" PRId64 " %.32s", u->id, u->name);
	else
		(void)snprintf(out, ADMIN_TARGET_SIZE + USERNAME_LEN_MAX,
		    "user ? %.32s", name);
}

static void
admin_show_user(const struct admin_user *u)
{
	char balance[MONEY_TEXT_SIZE_MAX], available[MONEY_TEXT_SIZE_MAX];

	/* The schema's CHECKs keep what holds reserve within the balance. */
	assert(
	    u->available_minor >= 0 && u->available_minor <= u->balance_minor);
	money_format(u->balance_minor, balance);
	money_format(u->available_minor, available);
	(void)printf("user %" PRId64 " %s\n", u->id, u->name);
	(void)printf("  created_at    %s\n", u->created_at);
	(void)printf("  balance       %s\n", balance);
	(void)printf("  available     %s\n", available);
	(void)printf("  pending_holds %" PRId64 "\n", u->pending_holds);
	if (u->frozen_at[0] == '\0')
		(void)printf("  frozen        no\n");
	else
		(void)printf("  frozen        yes, since %s: %s\n",
		    u->frozen_at, u->frozen_reason);
}

static int
admin_show(
    struct db *db, struct ledger_admin_act *act, const struct admin_args *args)
{
	enum ledger_admin_rc out = LEDGER_ADMIN_DONE;
	char target[ADMIN_TARGET_SIZE + USERNAME_LEN_MAX];
	struct admin_user u;
	enum db_rc rc;

	rc = db_exec(db, STMT_TXN_BEGIN, NULL, 0, NULL);
	if (rc != DB_OK)
		return admin_exit(LEDGER_ADMIN_FAILED, rc);
	db_txn_adopt(db, STMT_TXN_BEGIN);
	rc = admin_find_user(db, args->target, &u);
	admin_user_target(&u, args->target, target);
	if (rc == DB_NOT_FOUND) {
		out = LEDGER_ADMIN_NO_SUCH_USER;
	} else if (rc == DB_OK) {
		admin_show_user(&u);
		rc = admin_show_entries(db, u.id);
	}
	if (rc == DB_OK || rc == DB_NOT_FOUND)
		rc = ledger_admin_record(db, act, "show", target, out);
	if (rc == DB_OK)
		rc = db_txn_end(db);
	else
		db_txn_rollback(db);
	if (rc != DB_OK)
		out = LEDGER_ADMIN_FAILED;
	admin_log_line(act, "show", target, out);
	return admin_exit(out, rc);
}

static int
admin_freeze(
    struct db *db, struct ledger_admin_act *act, const struct admin_args *args)
{
	bool freeze = strcmp(args->cmd, "freeze") == 0;
	char target[ADMIN_TARGET_SIZE + USERNAME_LEN_MAX];
	enum ledger_admin_rc out;
	struct admin_user u;
	enum db_rc rc = admin_find_user(db, args->target, &u);

	/* No such user: id 0, which the CALL records as refused. */
	if (rc != DB_OK && rc != DB_NOT_FOUND)
		return admin_exit(LEDGER_ADMIN_FAILED, rc);
	admin_user_target(&u, args->target, target);
	out = ledger_admin_freeze(db, act, u.id, target, freeze, &rc);
	admin_log_line(act, args->cmd, target, out);
	if (out == LEDGER_ADMIN_DONE)
		(void)printf("%s %s\n", freeze ? "froze" : "unfroze", target);
	return admin_exit(out, rc);
}

static int
admin_reverse(
    struct db *db, struct ledger_admin_act *act, const struct admin_args *args)
{
	struct ledger_admin_reversal rev = {0};
	char target[ADMIN_TARGET_SIZE];
	enum ledger_admin_rc out;
	enum db_rc rc = DB_OK;
	long long id;

	if (util_parse_ll(args->target, 1, INT64_MAX, &id) != 0) {
		(void)fprintf(stderr, "payd admin reverse: TRANSFER_ID must be "
		                      "a positive integer\n");
		return 2;
	}
	rev.transfer_id = (int64_t)id;
	(void)snprintf(target, sizeof(target), "transfer %lld", id);
	out = ledger_admin_reverse(db, act, &rev, &rc);
	admin_log_line(act, "reverse", target, out);
	if (out == LEDGER_ADMIN_DONE) {
		char back[MONEY_TEXT_SIZE_MAX], fee[MONEY_TEXT_SIZE_MAX];

		money_format(rev.back_minor, back);
		money_format(rev.fee_minor, fee);
		(void)printf("reversed %s: reversal %" PRId64 ", user %" PRId64
		             " gave back %s, user %" PRId64
		             " got %s and the fee %s\n",
		    target, rev.reversal_id, rev.recipient_id, back,
		    rev.sender_id, back, fee);
	}
	return admin_exit(out, rc);
}

/* --since as a DATETIME: RFC 3339 UTC with Z, or a date. -1 if neither. */
static int
admin_since(const char *text, char out[UTIL_SQL_TIME_SIZE])
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(text, "%Y-%m-%d", &tm);
	}
	if (end == NULL || *end != '\0')
		return -1;
	util_format_sql_time(out, (int64_t)timegm(&tm));
	return 0;
}

/* Prints the rows of admin_actions since a time; recorded as a read. */
static int
admin_log(
    struct db *db, struct ledger_admin_act *act, const struct admin_args *args)
{
	char since[UTIL_SQL_TIME_SIZE] = "1970-01-01 00:00:00";
	char at[UTIL_TIME_SIZE + 8], op[LEDGER_ADMIN_OPERATOR_LEN_MAX * 4 + 1];
	char action[16], target[ADMIN_TARGET_SIZE], outcome[32];
	char reason[ADMIN_TEXT_SIZE];
	struct db_val in[] = {
	    DB_STR_IN(since, 0), DB_I64_IN(ADMIN_LOG_ROWS_MAX)};
	struct db_val out[] = {DB_I64_OUT(), DB_STR_OUT(at), DB_STR_OUT(op),
	    DB_STR_OUT(action), DB_STR_OUT(target), DB_STR_OUT(outcome),
	    DB_STR_OUT(reason)};
	enum db_rc rc;
	int rows = 0;

	if (args->since != NULL && admin_since(args->since, since) != 0) {
		(void)fprintf(stderr, "payd admin log: --since must be "
		                      "2026-11-26T03:15:49Z or 2026-11-26\n");
		return 2;
	}
	in[0].len = strlen(since);
	rc = db_exec(db, STMT_TXN_BEGIN, NULL, 0, NULL);
	if (rc == DB_OK) {
		db_txn_adopt(db, STMT_TXN_BEGIN);
		rc = db_query(db, STMT_ADMIN_LOG, in, 2, out, 7);
	}
	while (rc == DB_OK && (rc = db_fetch(db, STMT_ADMIN_LOG)) == DB_OK) {
		(void)printf("%" PRId64
		             " %s operator=\"%s\" action=%s target=\"%s\" "
		             "outcome=%s reason=\"%s\"\n",
		    out[0].i64, at, op, action, target, outcome, reason);
		rows++;
	}
	db_query_end(db, STMT_ADMIN_LOG);
	if (rows == ADMIN_LOG_ROWS_MAX)
		(void)printf("(the first %d only: use --since)\n", rows);
	if (rc == DB_NOT_FOUND)
		rc = ledger_admin_record(
		    db, act, "log", "admin_actions", LEDGER_ADMIN_DONE);
	rc = rc == DB_OK ? db_txn_end(db) : rc;
	if (db->in_txn)
		db_txn_rollback(db);
	admin_log_line(act, "log", "admin_actions",
	    rc == DB_OK ? LEDGER_ADMIN_DONE : LEDGER_ADMIN_FAILED);
	return admin_exit(
	    rc == DB_OK ? LEDGER_ADMIN_DONE : LEDGER_ADMIN_FAILED, rc);
}

int
admin_run(const struct config *cfg, int argc, char **argv)
{
	static struct db db;
	char operator_name[LEDGER_ADMIN_OPERATOR_LEN_MAX + 1];
	struct ledger_admin_act act;
	const struct admin_cmd *c = NULL;
	struct admin_args args;
	int rc;

	if (admin_parse(argc, argv, &args) != 0 || args.cmd == NULL) {
		admin_usage(args.help && args.cmd == NULL ? stdout : stderr);
		return args.help && args.cmd == NULL ? 0 : 2;
	}
	for (size_t i = 0; i < ADMIN_CMD_COUNT && c == NULL; i++)
		if (strcmp(admin_cmds[i].name, args.cmd) == 0)
			c = &admin_cmds[i];
	if (c == NULL) {
		admin_usage(stderr);
		return 2;
	}
	if (args.help) {
		(void)printf("usage: payd admin %s\n%s\n", c->usage, c->help);
		return 0;
	}
	if ((rc = admin_check(c, &args)) != 0)
		return rc;
	if (admin_operator(&args, operator_name, sizeof(operator_name)) != 0) {
		(void)fprintf(stderr, "payd admin: no operator name: use "
		                      "--operator NAME\n");
		return 2;
	}
	act.operator_name = operator_name;
	act.reason = args.reason != NULL ? args.reason : "";
	ledger_admin_act_at(&act, (int64_t)time(NULL));
	db_init(&db, cfg);
	if (db_ensure(&db) != DB_OK) {
		(void)fprintf(stderr, "payd admin: cannot connect to the "
		                      "database\n");
		return 2;
	}
	rc = c->run(&db, &act, &args);
	db_close(&db);
	return rc;
}
