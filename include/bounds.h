/*
 * Every limit of the service, with its reason and its ceiling.
 * Named bounds.h, not limits.h, so it never shadows the system header.
 */
#ifndef BOUNDS_H
#define BOUNDS_H

#include <stdint.h>

/* API.md: bodies are at most 16 KiB; nginx enforces it too. */
#define HTTP_BODY_SIZE_MAX (16 * 1024)
/*
 * API.md POST /transfers/batch: that path alone takes bodies up to 128 KiB
 * (1000 items of ~100 bytes); nginx's location for it says the same.
 */
#define HTTP_BATCH_BODY_SIZE_MAX (128 * 1024)
_Static_assert(HTTP_BODY_SIZE_MAX < HTTP_BATCH_BODY_SIZE_MAX,
    "the batch path takes the larger bodies");
/*
 * Response bodies: the largest is a statement of STATEMENT_ENTRIES_MAX
 * entries in JSON (at most 320 B each: h_statement.c), about 3.2 MB. The
 * buffer is allocated once per request slot (worker.c); untouched pages
 * cost no memory.
 */
#define HTTP_RESPONSE_SIZE_MAX (4 * 1024 * 1024)
/*
 * What of a response buffer stays resident after an answer: a page of
 * 100 transactions fits. A larger answer (a statement, a batch) gives its
 * pages past this back to the system once written (worker.c), so that a
 * worker's RSS does not keep the largest answer it ever wrote.
 */
#define HTTP_RESPONSE_KEEP_SIZE (64 * 1024)
_Static_assert(HTTP_RESPONSE_KEEP_SIZE < HTTP_RESPONSE_SIZE_MAX,
    "a response buffer keeps part of itself");
/* Extra response headers (Allow, WWW-Authenticate, Idempotent-Replayed...). */
#define HTTP_HEADER_COUNT_MAX 8
#define HTTP_HEADER_SIZE_MAX 256
/* Request paths and query strings longer than this are not ours. */
#define HTTP_PATH_SIZE_MAX 256
#define HTTP_QUERY_SIZE_MAX 512
/* nginx's $request_id is 32 hex characters; allow some slack. */
#define HTTP_REQUEST_ID_SIZE_MAX 64
/* An Authorization header: scheme, space and a token. */
#define HTTP_AUTH_SIZE_MAX 2048

/* API.md POST /register: 3 to 32 characters of A-Z a-z 0-9 _ . - */
#define USERNAME_LEN_MIN 3
#define USERNAME_LEN_MAX 32
/* API.md POST /register: 8 to 128 bytes of UTF-8. */
#define PASSWORD_LEN_MIN 8
#define PASSWORD_LEN_MAX 128
/* crypt(5): a yescrypt or bcrypt hash fits comfortably in 128 bytes. */
#define PASSWORD_HASH_SIZE_MAX 128

/* API.md Idempotency-Key: 1 to 255 printable ASCII characters. */
#define IDEM_KEY_LEN_MAX 255
/*
 * A stored response to replay: the largest is the answer of a batch of
 * BATCH_ITEMS_MAX items (at most 320 B each: h_batch.c). The column is a
 * MEDIUMBLOB (sql/005_statements.sql), 16 MiB.
 */
#define IDEM_RESPONSE_SIZE_MAX (512 * 1024)
_Static_assert(IDEM_RESPONSE_SIZE_MAX <= HTTP_RESPONSE_SIZE_MAX,
    "a stored answer is replayed from the response buffer");

/* API.md POST /transfers/batch: 1 to 1000 items. */
#define BATCH_ITEMS_MAX 1000
/*
 * payd_payout commits only this long before the app's read timeout or the
 * request's deadline, whichever comes first: the COMMIT and its rows' way
 * back to the app fit in it (ledger_batch.c).
 */
#define BATCH_COMMIT_MARGIN_MS 500
/*
 * The canonical text of a batch (h_batch.c), hashed under its
 * Idempotency-Key: "batch|a=1" and per item "|<to_id>:<hex of to>:<amount>"
 * with a name of at most 32 bytes: 1 + 19 + 1 + 64 + 1 + 19 < 112 each.
 */
#define BATCH_CANON_SIZE_MAX (BATCH_ITEMS_MAX * 112 + 64)
/* The items as the procedure reads them (ledger_batch.c): < 80 B each. */
#define BATCH_ITEMS_JSON_SIZE_MAX (BATCH_ITEMS_MAX * 80 + 16)

/* API.md GET /statement: at most 10000 entries, ranges of 366 days. */
#define STATEMENT_ENTRIES_MAX 10000
#define STATEMENT_RANGE_S_MAX (366 * 86400)

/* Money: minor units (cents), two fractional digits. */
#define MONEY_SCALE 100
/* API.md: the maximum amount of one operation is 1000000000.00. */
#define MONEY_AMOUNT_MAX_MINOR ((int64_t)100000000000)
/* API.md: no balance ever exceeds 10^13 major units. */
#define MONEY_BALANCE_MAX_MINOR ((int64_t)1000000000000000)
/* "-10000000000000.00" plus NUL, rounded up. */
#define MONEY_TEXT_SIZE_MAX 32
/* The literal text of an amount: digits, a point and two decimals. */
#define MONEY_LITERAL_LEN_MAX 24
/* Basis points: 10000 bp is 100 %. */
#define MONEY_BPS_MAX 10000

_Static_assert(MONEY_AMOUNT_MAX_MINOR < MONEY_BALANCE_MAX_MINOR,
    "one amount must fit under the balance cap");
_Static_assert(MONEY_BALANCE_MAX_MINOR < INT64_MAX / 4,
    "balance + amount + fee must never overflow int64_t");

/* API.md GET /transactions: limit 1 to 100, default 20. */
#define TXN_PAGE_LIMIT_MIN 1
#define TXN_PAGE_LIMIT_MAX 100
#define TXN_PAGE_LIMIT_DEFAULT 20

/* POST /holds "expires_in" (API.md), in seconds. */
#define HOLD_EXPIRES_IN_S_MIN 60
#define HOLD_EXPIRES_IN_S_MAX 604800
#define HOLD_EXPIRES_IN_S_DEFAULT 86400
/* GET /transfers/{id} lists at most this many of its refunds. */
#define REFUND_LIST_MAX 400
/*
 * The hold sweeper (app/sweeper.c): a tick a second on every instance;
 * its lease lasts three ticks, so a dead holder's is taken over within
 * four; at most this many holds expired a tick.
 */
#define SWEEPER_TICK_MS 1000
#define SWEEPER_LEASE_MS 3000
#define SWEEPER_HOLDS_MAX 1000

/* JWT: a token we issue is ~300 bytes; refuse anything absurd. */
#define TOKEN_SIZE_MAX 1024
#define TOKEN_SECRET_LEN_MIN 32
#define TOKEN_SECRET_LEN_MAX 512
/*
 * A secret file is read into TOKEN_SECRET_LEN_MAX plus this: its trailing
 * CR and LF, and one byte more, so that a longer file is seen and refused.
 */
#define CONFIG_SECRET_FILE_SLACK 3
/* API.md: a clock skew of at most 30 s is allowed. */
#define TOKEN_SKEW_S 30
#define TOKEN_TTL_S_DEFAULT 900
#define TOKEN_TTL_S_MAX 86400

/*
 * The route names /metrics counts requests by: the route table's
 * (router_names), the two answers of no route, and "-" for anything else.
 */
#define METRICS_ROUTE_COUNT_MAX 64
/* Workers: more than this is a mistake. */
#define WORKER_COUNT_MAX 256
/*
 * Workers per CPU when the configuration says 0. A worker waits on the
 * database for much of a request, so one per CPU leaves the CPUs idle;
 * since a worker takes the transfers and reads waiting for it in batches
 * (worker.c), few workers mean fuller batches, and they keep the
 * database's connections few. The measurements behind the figure are in
 * tests/bench/RESULTS.md.
 */
#define WORKER_PER_CPU_DEFAULT 2
_Static_assert(
    WORKER_PER_CPU_DEFAULT >= 1 && WORKER_PER_CPU_DEFAULT <= WORKER_COUNT_MAX,
    "workers per CPU");
/* Respawn back-off doubles from 100 ms up to this ceiling. */
#define WORKER_BACKOFF_MS_MAX 5000
/* SIGTERM: in-flight requests get this long before SIGKILL. */
#define WORKER_DRAIN_S_DEFAULT 10

/*
 * A request's time, counted from when nginx sent it on (REQUEST_START):
 * past it the worker answers 503 without touching the database, and no
 * transaction starts that its lock waits could keep past it. Well under
 * nginx's fastcgi_read_timeout (15 s, nginx.conf), which answers 503 on
 * its own: a money movement must never commit after that answer.
 */
#define REQUEST_DEADLINE_S_DEFAULT 10
/*
 * Deadlock and lock-wait retries of one transaction. On a Galera cluster
 * a write that loses certification to another node's is one too (1213 at
 * COMMIT); its back-off (db_retry_sleep) grows to 64 ms, about 0.2 s over
 * all attempts, so that a hot row's writers on several nodes take turns
 * (docs/cluster.md).
 */
#define DB_RETRY_COUNT_MAX 8
/* db_retry_sleep()'s longest back-off, 64 ms + as much of jitter. */
#define DB_RETRY_SLEEP_MS_MAX 128
/*
 * Row-lock waits that one CALL can make one after another: payd_transfer
 * (sql/R__payd_transfer.sql) waits at most on the Idempotency-Key, the two
 * users and the fee sub-account; payd_deposit on the key and the user.
 */
#define DB_CALL_LOCK_WAITS_MAX 4
/*
 * payd_transfer_many (sql/R__payd_transfer_many.sql) locks up to 16
 * users in one read, which may wait on each: it rolls back (as a lock-wait
 * timeout) when that took longer than this many lock waits, so that with
 * the fee sub-account's one wait after it the CALL stays within
 * DB_CALL_LOCK_WAITS_MAX waits.
 */
#define DB_BATCH_LOCK_WAITS 2
_Static_assert(DB_BATCH_LOCK_WAITS + 1 < DB_CALL_LOCK_WAITS_MAX,
    "a batch's lock waits, and the fee row's, fit a CALL's");
/*
 * After a connect that failed slowly (it took DB_CONNECT_SLOW_MS or more:
 * a host that does not answer, a server that does not greet), a worker
 * tries no other for DB_CONNECT_PAUSE_MS: each request meanwhile fails at
 * once (503) instead of waiting for its own connect timeout (2 s). A
 * connect refused at once (the server is down, the host is up) costs
 * nothing, and the next request tries again, so that a restarted server
 * is used as soon as it is back.
 */
#define DB_CONNECT_PAUSE_MS 1000
#define DB_CONNECT_SLOW_MS 100
/*
 * Database nodes in db_host: the preferred one, then its fallbacks, tried
 * in order on every connect (docs/cluster.md). A Galera cluster has three
 * to a few nodes; config_check also keeps the whole list's connect
 * timeouts below a request's deadline.
 */
#define DB_HOST_COUNT_MAX 8
/*
 * A worker connected to a fallback node drops its connection when idle
 * after this long, so that its next connect tries the preferred node
 * again (back from a restart) rather than staying away for good.
 */
#define DB_FALLBACK_RETURN_MS 60000
/*
 * Requests a worker takes from the listening socket at once when they are
 * of one kind that runs together: reads of the caller's row (GET /balance,
 * GET /transactions), whose users are read in one statement
 * (STMT_USER_BATCH's document has this many items), or transfers, run in one
 * transaction (STMT_TRANSFER_BATCH has this many slots).
 */
#define WORKER_BATCH_MAX 8
/*
 * STMT_TRANSFER_BATCH's parameters: the transfers as one JSON document
 * (sql/R__payd_transfer_many.sql), the fee sub-account, the instant and
 * the time its row locks may take.
 */
#define DB_TRANSFER_BATCH_PARAMS 4
/*
 * One transfer in that document: eight fields, the two names at most
 * USERNAME_LEN_MAX bytes each and six integers of at most 20 characters,
 * with their punctuation: under 256 bytes.
 */
#define DB_TRANSFER_ITEM_JSON_SIZE_MAX 256
#define DB_TRANSFER_BATCH_JSON_SIZE_MAX                                        \
	(WORKER_BATCH_MAX * DB_TRANSFER_ITEM_JSON_SIZE_MAX + 2)
/*
 * One caller in STMT_USER_BATCH's document, [id, "name", gen]: a username
 * of at most USERNAME_LEN_MAX bytes, two integers of at most 20
 * characters, and their punctuation: under 96 bytes.
 */
#define DB_USER_ITEM_JSON_SIZE_MAX 96
#define DB_USER_BATCH_JSON_SIZE_MAX                                            \
	(WORKER_BATCH_MAX * DB_USER_ITEM_JSON_SIZE_MAX + 2)
_Static_assert(USERNAME_LEN_MAX + 2 * 20 + 8 < DB_USER_ITEM_JSON_SIZE_MAX,
    "a caller's item fits its room in STMT_USER_BATCH's document");
/*
 * Result columns of one statement: the most is a hold's answer
 * (payd_hold_answer: the state, the hold's ten, the payer's available) and
 * GET /transfers/{id}'s twelve; GET /statement's nine.
 */
#define DB_COLUMN_COUNT_MAX 16
#define DB_PARAM_COUNT_MAX 72
_Static_assert(DB_TRANSFER_BATCH_PARAMS <= DB_PARAM_COUNT_MAX,
    "STMT_TRANSFER_BATCH binds every slot of a batch");

/* Configuration: a line, a key, a value, a path. */
#define CONFIG_LINE_SIZE_MAX 1024
#define CONFIG_VALUE_SIZE_MAX 512
#define CONFIG_PATH_SIZE_MAX 512

/* One log line, formatted on the stack. */
#define LOG_LINE_SIZE_MAX 2048

/* Request arena: big enough for a body, a response and json-c scratch. */
#define ARENA_SIZE (256 * 1024)

/* Migrations: number of files and the size of one. */
#define MIGRATION_COUNT_MAX 256
#define MIGRATION_SIZE_MAX (256 * 1024)
/* How long a migrate waits for another one to finish, by default (s). */
#define MIGRATE_LOCK_WAIT_S_DEFAULT 60
/*
 * payd migrate's lease (app/migrate.c): a migrator that died leaves it
 * taken this long; the holder is this many random bytes.
 */
#define MIGRATE_LEASE_S 300
#define MIGRATE_HOLDER_SIZE 16
/* A routine's parameter list, as mysql.proc keeps its text. */
#define MIGRATE_PARAMS_SIZE_MAX (16 * 1024)

/*
 * Sizes and timings of the modules, each beside the reason for it. (A
 * test, check_source.c, keeps numeric #defines out of every other file.)
 */

/* JSON bodies: nesting deeper than this is refused; our bodies are flat. */
#define JSONIO_DEPTH_MAX 16

/* A fractional part has at most two digits: cents (API.md Conventions). */
#define MONEY_FRAC_DIGITS_MAX 2
/* One basis point is 1/10000 of the amount. */
#define MONEY_BPS_DENOMINATOR 10000

/* RFC 3339 UTC "2026-11-26T03:15:49Z" and its NUL (util_format_time). */
#define UTIL_TIME_SIZE 21
/* A DATETIME "2026-11-26 03:15:49" and its NUL (util_format_sql_time). */
#define UTIL_SQL_TIME_SIZE 20
/* "YYYY-MM-DD HH:MM:SS" and its NUL: a DATETIME as MariaDB reads it. */
#define REGISTER_DATETIME_SIZE 20
#define LEDGER_SQL_TIME_SIZE 20

/* The longest value of ?limit= or ?before= worth reading: 19 digits. */
#define TXN_PARAM_SIZE_MAX 24
/* entries.type: "transfer_out" and "reversal_out" are the longest. */
#define ENTRY_TYPE_SIZE_MAX 16
/*
 * One entry in JSON (entry.c): ~125 bytes of keys and punctuation, two
 * 19-digit ids (the entry's, a reversal's transfer_id), three amounts of
 * at most 17 characters, a time of 20, a type of 15 and a username of 32
 * (no character of one needs escaping): under 320.
 */
#define ENTRY_JSON_SIZE_MAX 320
/* A statement's query parameter: RFC 3339 with 9 decimals and offset. */
#define STATEMENT_PARAM_SIZE_MAX 48
/* A JSON statement's head and tail around its entries (h_statement.c). */
#define STATEMENT_FRAME_SIZE_MAX 1024
/* A batch's 400 message: "Transfer 999: " and a field's message. */
#define BATCH_MESSAGE_SIZE_MAX 160
/*
 * One answered item of a batch (h_batch.c): {"index":999,"status":201,
 * "transfer":{...}} with a transfer object of ~80 bytes of keys, a
 * 19-digit id, two usernames of at most 32 bytes, three amounts of at most
 * 17 characters and a time of 20: under 320 bytes. A refused one, with
 * its error, is shorter.
 */
#define BATCH_ROW_SIZE_MAX 320

/* A hold's status, "captured" the longest, and its NUL (ledger_hold.h). */
#define LEDGER_HOLD_STATUS_SIZE 16
/* ?status= of GET /holds: one of the four statuses, or too long. */
#define HOLDS_PARAM_SIZE_MAX 24
/* One hold in JSON is under 640 bytes: names of <= 32, fixed keys. */
#define HOLDS_ROW_JSON_SIZE_MAX 640
/* One refund in GET /transfers/{id} is under 96 bytes of JSON. */
#define REFUND_ROW_JSON_SIZE_MAX 96
/* The sweeper's lease holder "<host>:<pid>" (leases.holder), its host. */
#define SWEEPER_HOLDER_SIZE 96
#define SWEEPER_HOST_SIZE 64

/* The canonical request: "transfer|to=<32 bytes>|<19 digits>" and NUL. */
#define LEDGER_CANON_SIZE_MAX 96

/* Random bytes of a jti (RFC 7519 section 4.1.7): 128 bits, as hex. */
#define TOKEN_JTI_SIZE 16
/* A decoded header: {"alg":"HS256","typ":"JWT"} and little more. */
#define TOKEN_HEADER_SIZE_MAX 256

/*
 * The yescrypt cost given to crypt_gensalt_ra("$y$", ...). Measured on the
 * 2-core build machine, one hash or verification takes about 67 ms at 5
 * (4: 29 ms, 6: 132 ms). 5 is also libxcrypt's own default: tens of ms per
 * guess for an attacker holding the table, still ~15 logins/s per core.
 */
#define PASSWORD_HASH_COST 5
/* Random bytes of the dummy password; it is never used to log in. */
#define PASSWORD_DUMMY_RANDOM_SIZE 24

/* The smallest out for log_quote(): quotes, mark, NUL and two bytes more. */
#define LOG_QUOTE_SIZE_MIN 8

/* The FastCGI socket's mode: read and write for the user and group. */
#define MASTER_SOCKET_MODE 0660
/* A worker that dies sooner than this after its start is crash-looping. */
#define MASTER_CRASH_WINDOW_MS 1000
/* The first respawn back-off (it doubles up to WORKER_BACKOFF_MS_MAX). */
#define MASTER_BACKOFF_MS_MIN 100
/* How long a reload waits for a new worker to say it is ready. */
#define MASTER_READY_WAIT_MS 5000
/* The supervision loop wakes at least this often. */
#define MASTER_TICK_MS 100
/* Old workers still draining after a reload. */
#define MASTER_RETIRED_MAX (2 * WORKER_COUNT_MAX)
/* Purge expired idempotency keys at most this often, per worker. */
#define WORKER_PURGE_INTERVAL_MS (60 * 1000)

/* payd audit: each statement stops at this many rows (LIMIT in db.c). */
#define AUDIT_ROWS_MAX 100
/* The read timeout of its queries, which read the whole ledger. */
#define AUDIT_RW_TIMEOUT_S 600

/* admin_actions.operator and .reason: the columns' sizes. */
#define LEDGER_ADMIN_OPERATOR_LEN_MAX 64
#define LEDGER_ADMIN_REASON_LEN_MAX 255

/* payd admin show: the newest ledger entries it prints. */
#define ADMIN_SHOW_ENTRIES 20
/* payd admin log: the most rows it prints (older ones: --since). */
#define ADMIN_LOG_ROWS_MAX 1000
/*
 * "transfer 9223372036854775807" or "user 9223372036854775807 " and its
 * NUL; a user's name follows (admin_actions.target is 64 characters).
 */
#define ADMIN_TARGET_SIZE 30
/* A row's text columns, and a name read back (utf8mb4: 4 bytes a char). */
#define ADMIN_TEXT_SIZE (LEDGER_ADMIN_REASON_LEN_MAX * 4 + 1)
#define ADMIN_NAME_SIZE (USERNAME_LEN_MAX * 4 + 1)
/* getpwuid_r's room for the passwd strings (sysconf's usual guess). */
#define ADMIN_PASSWD_SIZE 1024

#endif /* BOUNDS_H */
