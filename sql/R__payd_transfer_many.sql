-- Concurrent POST /transfers in one transaction and one round trip: a
-- worker that finds several transfers waiting takes up to 8 of them at
-- once (app/worker.c, WORKER_BATCH_MAX) and runs them here, instead of a
-- CALL of payd_transfer each, with its own round trip and its own commit.
-- Transfers with an Idempotency-Key never come here (payd_transfer).
-- (It replaces payd_transfer_batch, whose 8 slots were written out one by
-- one; sql/006_drop_transfer_batch.sql dropped it a release later.)
--
-- p_items is one JSON document, one array per transfer, in order:
-- [[from, "from_name", from_gen, to_id, "to_name", amount, fee, room], ...]
-- with payd_transfer's parameters but the key: payer, its name and token
-- generation, payee by id (to_id > 0) or by name, amount, fee, room (the
-- cap minus amount), all in minor units; names are usernames or empty,
-- with nothing to escape (app/ledger.c). All share the fee sub-account,
-- the instant, and p_lock_ms (step 2).
--
--   1. payd_transfer_who for every transfer, outside the transaction;
--   2. START TRANSACTION, and every payer and payee of the transfers that
--      go on locked in one read, in ascending id order: two batches (or a
--      batch and a payd_transfer, which locks its two rows in ascending
--      order too) cannot deadlock on users, however their transfers cross.
--      The read's IN list is built from the ids (integers) and prepared,
--      so that the server scans it in ascending order as one range read.
--      That read may wait on up to 16 rows, one after another: if it took
--      more than p_lock_ms since the CALL began, the batch rolls back as
--      if a lock wait had timed out, because what is left (the fee row's
--      one wait, the commit) must end before the app's read timeout
--      (app/config.c): a batch never commits after the app gave up;
--   3. payd_transfer_move for every transfer, in order: each sees the
--      balances that the ones before it left, as if they had run one
--      after the other. A refused one (400, 401, 404 from step 1, 422
--      here) changes nothing, and the others go on;
--   4. the fee sub-account (payd_fee_account) credited once with the sum
--      of the fees, last (payd_fee_credit);
--   5. COMMIT, then one row per transfer (its index from 1, state, to_id,
--      to_name, movement_id, balance, to_balance; state as payd_transfer's),
--      so no row reaches the app before the commit.
--
-- Any error rolls the whole batch back and is raised: nothing moved. On a
-- deadlock or a lock-wait timeout the app runs each transfer again on its
-- own; any other error each transfer answers as its own CALL's would
-- (app/ledger.c ledger_transfer_batch, app/h_transfer.c h_transfer_batch).
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_transfer_many(
    IN p_items TEXT, IN p_fee_account INT, IN p_at DATETIME, IN p_lock_ms INT)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'POST /transfer, several at once (R__payd_transfer_many.sql)'
BEGIN
	DECLARE v_state TINYINT DEFAULT 0;
	DECLARE v_to, v_mid, v_bal, v_tobal BIGINT DEFAULT 0;
	DECLARE v_to_name VARCHAR(32) DEFAULT NULL;
	-- [[state, to_id, "to_name"], ...] after step 1; the rows after 3.
	DECLARE v_who, v_out LONGTEXT DEFAULT '[]';
	DECLARE v_ids TEXT DEFAULT NULL;
	DECLARE v_fees BIGINT DEFAULT 0;
	-- SYSDATE, not NOW: the clock, not the CALL's start.
	DECLARE v_t0 DATETIME(6) DEFAULT SYSDATE(6);
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;

	-- 1. Who pays, and who is paid.
	FOR j IN (SELECT * FROM JSON_TABLE(p_items, '$[*]'
	    COLUMNS (idx FOR ORDINALITY, from_id BIGINT PATH '$[0]',
		from_name VARCHAR(32) PATH '$[1]', gen BIGINT PATH '$[2]',
		to_id BIGINT PATH '$[3]', to_name VARCHAR(32) PATH '$[4]')) i
	    ORDER BY idx) DO
		CALL payd_transfer_who(j.from_id, j.from_name, j.gen, j.to_id,
		    j.to_name, v_state, v_to, v_to_name);
		SET v_who = JSON_ARRAY_APPEND(v_who, '$',
		    JSON_ARRAY(v_state, v_to, v_to_name));
		IF v_state = 0 THEN
			SET v_ids = CONCAT_WS(',', v_ids, j.from_id, v_to);
		END IF;
	END FOR;

	-- 2. The transaction, and its users' rows in ascending id order.
	SET p_fee_account = payd_fee_account(p_fee_account);
	START TRANSACTION;
	IF v_ids IS NOT NULL THEN
		SET @payd_transfer_many_lock = CONCAT(
		    'SELECT COUNT(*) INTO @payd_transfer_many_n FROM users ',
		    'WHERE id IN (', v_ids, ') FOR UPDATE');
		PREPARE payd_transfer_many_lock FROM @payd_transfer_many_lock;
		EXECUTE payd_transfer_many_lock;
		DEALLOCATE PREPARE payd_transfer_many_lock;
	END IF;
	-- Each row may have waited up to the lock wait; past p_lock_ms in all
	-- the app may have stopped reading, so nothing commits: as a lock-wait
	-- timeout (1205), the app runs each transfer on its own.
	IF TIMESTAMPDIFF(MICROSECOND, v_t0, SYSDATE(6)) > p_lock_ms * 1000 THEN
		SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = 1205,
		    MESSAGE_TEXT = 'payd_transfer_many: row locks took too long';
	END IF;

	-- 3. The moves and the ledger rows, one transfer after the other.
	FOR j IN (SELECT i.idx, i.from_id, i.amount, i.fee, i.room, w.state,
		w.to_id, w.to_name
	    FROM JSON_TABLE(p_items, '$[*]'
		COLUMNS (idx FOR ORDINALITY, from_id BIGINT PATH '$[0]',
		    amount BIGINT PATH '$[5]', fee BIGINT PATH '$[6]',
		    room BIGINT PATH '$[7]')) i
	    JOIN JSON_TABLE(v_who, '$[*]'
		COLUMNS (idx FOR ORDINALITY, state TINYINT PATH '$[0]',
		    to_id BIGINT PATH '$[1]', to_name VARCHAR(32) PATH '$[2]')) w
	    ON w.idx = i.idx
	    ORDER BY i.idx) DO
		SET v_state = j.state;
		CALL payd_transfer_move(j.from_id, j.to_id, j.amount, j.fee,
		    j.room, p_fee_account, p_at, v_state, v_mid, v_bal, v_tobal,
		    v_fees);
		SET v_out = JSON_ARRAY_APPEND(v_out, '$', JSON_ARRAY(v_state,
		    j.to_id, j.to_name, v_mid, v_bal, v_tobal));
	END FOR;

	-- 4. The fee sub-account, last.
	CALL payd_fee_credit(p_fee_account, v_fees);

	-- 5. Commit, then the answers.
	COMMIT;
	SELECT o.idx, o.state, o.to_id, o.to_name, o.mid, o.bal, o.tobal
	    FROM JSON_TABLE(v_out, '$[*]'
		COLUMNS (idx FOR ORDINALITY, state TINYINT PATH '$[0]',
		    to_id BIGINT PATH '$[1]', to_name VARCHAR(32) PATH '$[2]',
		    mid BIGINT PATH '$[3]', bal BIGINT PATH '$[4]',
		    tobal BIGINT PATH '$[5]')) o
	    ORDER BY o.idx;
END;
