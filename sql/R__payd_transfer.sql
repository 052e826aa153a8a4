-- POST /transfer as one stored procedure: the whole request, from the
-- caller's row to the commit, in one round trip instead of ten (the
-- caller's row, BEGIN, the key, two balance moves, the read-back, the
-- movement, its entries, the fee credit, COMMIT). On this service's
-- machines each round trip costs two context switches (make bench,
-- tests/bench/RESULTS.md). Concurrent transfers that a worker takes at once
-- run together in payd_transfer_many (sql/R__payd_transfer_many.sql),
-- with the same two steps:
--
--   1. payd_transfer_who (sql/R__payd_transfer_who.sql): the caller's
--      row, as auth_user() reads it for every other route, and the
--      recipient, by id or by username, and not the caller;
--   2. START TRANSACTION, then the Idempotency-Key's row when there is a
--      key (payd_txn_begin, sql/R__payd_txn_begin.sql): a concurrent
--      request with the same key waits on its lock;
--   3. payd_transfer_move (sql/R__payd_transfer_move.sql): the debit and
--      the credit in ascending user id order, so that A->B and B->A
--      cannot deadlock, both balances read back under our locks, the
--      movement and its three entries;
--   4. last the fee sub-account (picked by payd_fee_account from the
--      app's number, credited by payd_fee_credit), whose row is shared by
--      all transfers and so is locked the shortest;
--   5. COMMIT, unless there is a key: then the transaction stays open and
--      the app stores its answer under the key and commits (app/idem.c),
--      so that the key and the movement are one atomic write
--      (payd_txn_end).
--
-- Returns one row: state, to_id, to_name, movement_id, balance (the
-- caller's, after), to_balance. state (enum ledger_state, include/ledger.h):
--   0 done: moved (committed, or open with a key), 1 the caller is gone
--   (401), 2 a transfer to oneself (400), 3 no such recipient (404),
--   4 insufficient funds (422), 5 the recipient's cap (422), 6 the key is
--   taken (replay), 7 the key is held by a request still running (409),
--   9 the payer's account is frozen (403, sql/R__payd_debit.sql).
-- Nothing is left open unless state is 0 and there is a key. A deadlock,
-- a lock-wait timeout or any other error rolls back and is raised to the
-- app (which retries 1213 and 1205, API.md Faults).
-- SQL SECURITY DEFINER: it runs with payd_owner's rights (deploy/grants.sql).
--
-- A routine file (R__*.sql), not a numbered migration: payd migrate
-- applies it after the numbered ones, and again whenever this text
-- changes (schema_routines keeps the SHA-256 of the text last applied), so
-- the procedure is edited here, in place. CREATE OR REPLACE swaps it in one
-- statement: a CALL running meanwhile uses the old body or the new one,
-- never none. (Its first version was sql/002_transfer_procedure.sql;
-- databases that recorded 002 keep the record, and get this file.)
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_transfer(
    IN p_from BIGINT, IN p_from_name VARCHAR(32), IN p_from_gen BIGINT,
    IN p_to BIGINT, IN p_to_name VARCHAR(32),
    IN p_amount BIGINT, IN p_fee BIGINT, IN p_room BIGINT,
    IN p_fee_account INT, IN p_at DATETIME,
    IN p_key VARBINARY(255), IN p_canon VARBINARY(96))
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'POST /transfer in one round trip (sql/R__payd_transfer.sql)'
proc: BEGIN
	DECLARE v_state TINYINT DEFAULT 0;
	DECLARE v_to BIGINT DEFAULT NULL;
	DECLARE v_to_name VARCHAR(32) DEFAULT NULL;
	DECLARE v_mid BIGINT DEFAULT 0;
	DECLARE v_bal BIGINT DEFAULT 0;
	DECLARE v_tobal BIGINT DEFAULT 0;
	DECLARE v_fees BIGINT DEFAULT 0;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;

	-- 1. Who pays, and who is paid (outside the transaction).
	CALL payd_transfer_who(p_from, p_from_name, p_from_gen, p_to,
	    p_to_name, v_state, v_to, v_to_name);
	IF v_state <> 0 THEN
		SELECT v_state, v_to, v_to_name, v_mid, v_bal, v_tobal;
		LEAVE proc;
	END IF;

	-- 2. The transaction, and the key first.
	SET p_fee_account = payd_fee_account(p_fee_account);
	CALL payd_txn_begin(p_from, p_key, p_canon, v_state);
	IF v_state <> 0 THEN
		SELECT v_state, v_to, v_to_name, v_mid, v_bal, v_tobal;
		LEAVE proc;
	END IF;

	-- 3. and 4. The moves and the ledger rows.
	CALL payd_transfer_move(p_from, v_to, p_amount, p_fee, p_room,
	    p_fee_account, p_at, v_state, v_mid, v_bal, v_tobal, v_fees);
	IF v_state <> 0 THEN
		ROLLBACK;
		SELECT v_state, v_to, v_to_name, v_mid, v_bal, v_tobal;
		LEAVE proc;
	END IF;
	CALL payd_fee_credit(p_fee_account, v_fees);

	-- 5. Commit, or leave it to the app to store the key's answer.
	CALL payd_txn_end(v_state, p_key);
	SELECT v_state, v_to, v_to_name, v_mid, v_bal, v_tobal;
END;
