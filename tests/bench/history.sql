-- make bench: one account, bench_history, with 100 000 entries over the
-- past year (a top-up of 0.01 every 315 s), written as proper ledger rows
-- (movements, the user's entries with their balances, the external
-- funding) so that payd audit stays sound. GET /statement and GET
-- /balance?at= run against it (tests/bench/run.sh). @hash is set first.
-- 30 days hold 8228 entries, 36 days 9874: under the 10000 of a statement.
INSERT INTO users (username, password_hash) VALUES ('bench_history', @hash);
SET @u = LAST_INSERT_ID();
SET @m0 = (SELECT COALESCE(MAX(id), 0) FROM movements);
SET @t0 = UTC_TIMESTAMP() - INTERVAL 365 DAY;
INSERT INTO movements (id, kind, from_user, to_user, amount, fee, created_at)
    SELECT @m0 + 1 + seq, 'deposit', NULL, @u, 1, 0,
	@t0 + INTERVAL (seq * 315) SECOND FROM seq_0_to_99999;
INSERT INTO entries (account_kind, account_id, movement_id, type, delta,
    balance_after, counterparty_id, created_at)
    SELECT 'user', @u, @m0 + 1 + seq, 'deposit', 1, seq + 1, NULL,
	@t0 + INTERVAL (seq * 315) SECOND FROM seq_0_to_99999;
INSERT INTO entries (account_kind, account_id, movement_id, type, delta,
    balance_after, counterparty_id, created_at)
    SELECT 'external', 0, @m0 + 1 + seq, 'funding', -1, NULL, NULL,
	@t0 + INTERVAL (seq * 315) SECOND FROM seq_0_to_99999;
UPDATE users SET balance = 100000 WHERE id = @u;
SELECT UNIX_TIMESTAMP(@t0);
