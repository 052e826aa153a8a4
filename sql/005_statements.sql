-- Issue 19: balances at a point in time, statements, and batch payouts.
--
-- 1. The index of GET /balance?at= and GET /statement: an account's
--    entries in time order. Within one second, entries are in movement id
--    order, which for one account is the order in which its balance
--    changed (each movement inserts its row while it holds the account's
--    row lock). sql/R__payd_entries_time.sql keeps an account's times in
--    that same order, so both orders agree (docs/money.md, Time).
ALTER TABLE entries
    ADD KEY entries_account_time (account_kind, account_id, created_at,
	movement_id);

-- 2. Entries written before that trigger existed: a movement that took
--    its time and then waited for a row lock could carry an earlier
--    second than the account's entry before it. Each user entry gets the
--    latest time of the entries before it on its account (a no-op on a
--    new database).
UPDATE entries e
    JOIN (SELECT account_id, movement_id,
	    MAX(created_at) OVER (PARTITION BY account_id
		ORDER BY movement_id) AS t
	FROM entries WHERE account_kind = 'user') x
    ON e.account_kind = 'user' AND e.account_id = x.account_id
	AND e.movement_id = x.movement_id
    SET e.created_at = x.t
    WHERE e.created_at < x.t;

-- 3. The answer stored under an Idempotency-Key is replayed byte for byte;
--    a batch of 1000 answers about 270 KB (POST /transfers/batch), so the
--    column holds up to 16 MiB (IDEM_RESPONSE_SIZE_MAX in bounds.h).
ALTER TABLE idempotency_keys MODIFY response MEDIUMBLOB NULL;
