-- POST /balance (a top-up) as one stored procedure: the whole request, from
-- the caller's row to the commit, in one round trip instead of seven (the
-- caller's row, BEGIN, the credit, the read-back, the movement, its
-- entries, COMMIT; two more with an Idempotency-Key). The statements are
-- those the app ran itself before, in the same order:
--
--   1. the caller, as auth_user() reads it for every other route
--      (payd_caller_is, sql/R__payd_caller_is.sql): the token's user id
--      must still exist under the token's name (compared byte for byte),
--      and the token's generation must still be the user's;
--   2. START TRANSACTION, then the Idempotency-Key's row when there is a
--      key (payd_txn_begin, sql/R__payd_txn_begin.sql): a concurrent
--      request with the same key waits on its lock;
--   3. the credit, only if balance <= the cap minus amount;
--   4. the balance read back under our lock (API.md: the balance right
--      after this top-up, read in the same transaction), the movement and
--      its two entries (+amount to the user, -amount to external account
--      0, where all money comes from);
--   5. COMMIT, unless there is a key: then the transaction stays open and
--      the app stores its answer under the key and commits (app/idem.c),
--      so that the key and the movement are one atomic write
--      (payd_txn_end).
--
-- Returns one row: state, movement_id, balance (the caller's, after).
-- state is enum ledger_state of include/ledger.h, as for payd_transfer:
--   0 done: moved (committed, or open with a key), 1 the caller is gone
--   (401), 5 the cap (422 limit_exceeded), 6 the key is taken (replay),
--   7 the key is held by a request still running (409).
-- Nothing is left open unless state is 0 and there is a key. A deadlock,
-- a lock-wait timeout or any other error rolls back and is raised to the
-- app (which retries 1213 and 1205, API.md Faults).
-- SQL SECURITY DEFINER: it runs with payd_owner's rights (deploy/grants.sql).
-- A routine file: payd migrate applies it again whenever this text changes.
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_deposit(
    IN p_user BIGINT, IN p_user_name VARCHAR(32), IN p_user_gen BIGINT,
    IN p_amount BIGINT, IN p_room BIGINT, IN p_at DATETIME,
    IN p_key VARBINARY(255), IN p_canon VARBINARY(96))
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'POST /balance in one round trip (sql/R__payd_deposit.sql)'
proc: BEGIN
	DECLARE v_state TINYINT DEFAULT 0;
	DECLARE v_mid BIGINT DEFAULT 0;
	DECLARE v_bal BIGINT DEFAULT 0;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;

	-- 1. Who tops up (sql/R__payd_caller_is.sql): the credit below
	-- checks the row again under its lock.
	IF NOT payd_caller_is(p_user, p_user_name, p_user_gen) THEN
		SET v_state = 1;
		SELECT v_state, v_mid, v_bal;
		LEAVE proc;
	END IF;

	-- 2. The transaction, and the key first.
	CALL payd_txn_begin(p_user, p_key, p_canon, v_state);
	IF v_state <> 0 THEN
		SELECT v_state, v_mid, v_bal;
		LEAVE proc;
	END IF;

	-- 3. The credit, under the cap.
	UPDATE users SET balance = balance + p_amount
	    WHERE id = p_user AND balance <= p_room;
	IF ROW_COUNT() <> 1 THEN
		ROLLBACK;
		SET v_state = 5;
		SELECT v_state, v_mid, v_bal;
		LEAVE proc;
	END IF;

	-- 4. The balance after, and the ledger rows.
	SET v_bal = (SELECT balance FROM users WHERE id = p_user);
	INSERT INTO movements (kind, from_user, to_user, amount, fee,
	    created_at)
	    VALUES ('deposit', NULL, p_user, p_amount, 0, p_at);
	SET v_mid = LAST_INSERT_ID();
	INSERT INTO entries (account_kind, account_id, movement_id, type,
	    delta, balance_after, counterparty_id, created_at)
	    VALUES ('user', p_user, v_mid, 'deposit', p_amount, v_bal, NULL,
	    payd_entry_at(p_user, p_at)),
	    ('external', 0, v_mid, 'funding', -p_amount, NULL, NULL, p_at);

	-- 5. Commit, or leave it to the app to store the key's answer.
	CALL payd_txn_end(v_state, p_key);
	SELECT v_state, v_mid, v_bal;
END;
