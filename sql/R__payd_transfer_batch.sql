-- Concurrent POST /transfers in one transaction and one round trip: a
-- worker that finds several transfers waiting takes up to 8 of them at
-- once (app/worker.c, WORKER_BATCH_MAX) and runs them here, instead of 8
-- CALLs of payd_transfer, each with its own round trip and its own commit.
-- Transfers with an Idempotency-Key never come here (payd_transfer).
--
-- Slot i (1 to 8) has the parameters of payd_transfer but the key: payer,
-- name and token generation, payee by id or name, amount, fee, room (the
-- cap minus amount); a slot whose payer is 0 is unused. All slots share
-- the fee sub-account, the instant, and p_lock_ms (step 2).
--
--   1. payd_transfer_who for every slot, outside the transaction;
--   2. START TRANSACTION, and every payer and payee of the slots that go on
--      locked in one read, in ascending id order: two batches (or a batch
--      and a payd_transfer, which locks its two rows in ascending order
--      too) cannot deadlock on users, however their transfers cross.
--      That read may wait on up to 16 rows, one after another: if it took
--      more than p_lock_ms since the CALL began, the batch rolls back as
--      if a lock wait had timed out, because what is left (the fee row's
--      one wait, the commit) must end before the app's read timeout
--      (app/config.c): a batch never commits after the app gave up;
--   3. payd_transfer_move for every slot, in slot order: each sees the
--      balances that the slots before it left, as if they had run one
--      after the other. A refused slot (400, 401, 404 from step 1, 422
--      here) changes nothing, and the others go on;
--   4. the fee sub-account credited once with the sum of the fees, last;
--   5. COMMIT, then one row per slot (slot, state, to_id, to_name,
--      movement_id, balance, to_balance; state as payd_transfer's, 8 for
--      an unused slot), so no row reaches the app before the commit.
--
-- Any error rolls the whole batch back and is raised: nothing moved. On a
-- deadlock or a lock-wait timeout the app runs each transfer again on its
-- own; any other error each transfer answers as its own CALL's would
-- (app/ledger.c ledger_transfer_batch, app/h_transfer.c h_transfer_batch).
-- Generated slot by slot: the same lines for slots 1 to 8.
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_transfer_batch(
    IN p_from1 BIGINT, IN p_from_name1 VARCHAR(32),
    IN p_from_gen1 BIGINT, IN p_to1 BIGINT, IN p_to_name1 VARCHAR(32),
    IN p_amount1 BIGINT, IN p_fee1 BIGINT, IN p_room1 BIGINT,
    IN p_from2 BIGINT, IN p_from_name2 VARCHAR(32),
    IN p_from_gen2 BIGINT, IN p_to2 BIGINT, IN p_to_name2 VARCHAR(32),
    IN p_amount2 BIGINT, IN p_fee2 BIGINT, IN p_room2 BIGINT,
    IN p_from3 BIGINT, IN p_from_name3 VARCHAR(32),
    IN p_from_gen3 BIGINT, IN p_to3 BIGINT, IN p_to_name3 VARCHAR(32),
    IN p_amount3 BIGINT, IN p_fee3 BIGINT, IN p_room3 BIGINT,
    IN p_from4 BIGINT, IN p_from_name4 VARCHAR(32),
    IN p_from_gen4 BIGINT, IN p_to4 BIGINT, IN p_to_name4 VARCHAR(32),
    IN p_amount4 BIGINT, IN p_fee4 BIGINT, IN p_room4 BIGINT,
    IN p_from5 BIGINT, IN p_from_name5 VARCHAR(32),
    IN p_from_gen5 BIGINT, IN p_to5 BIGINT, IN p_to_name5 VARCHAR(32),
    IN p_amount5 BIGINT, IN p_fee5 BIGINT, IN p_room5 BIGINT,
    IN p_from6 BIGINT, IN p_from_name6 VARCHAR(32),
    IN p_from_gen6 BIGINT, IN p_to6 BIGINT, IN p_to_name6 VARCHAR(32),
    IN p_amount6 BIGINT, IN p_fee6 BIGINT, IN p_room6 BIGINT,
    IN p_from7 BIGINT, IN p_from_name7 VARCHAR(32),
    IN p_from_gen7 BIGINT, IN p_to7 BIGINT, IN p_to_name7 VARCHAR(32),
    IN p_amount7 BIGINT, IN p_fee7 BIGINT, IN p_room7 BIGINT,
    IN p_from8 BIGINT, IN p_from_name8 VARCHAR(32),
    IN p_from_gen8 BIGINT, IN p_to8 BIGINT, IN p_to_name8 VARCHAR(32),
    IN p_amount8 BIGINT, IN p_fee8 BIGINT, IN p_room8 BIGINT,
    IN p_fee_account INT, IN p_at DATETIME, IN p_lock_ms INT)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'POST /transfer, several at once (R__payd_transfer_batch.sql)'
BEGIN
	DECLARE v_state1 TINYINT DEFAULT 8;
	DECLARE v_to1, v_mid1, v_bal1, v_tobal1 BIGINT DEFAULT 0;
	DECLARE v_to_name1 VARCHAR(32) DEFAULT NULL;
	DECLARE v_state2 TINYINT DEFAULT 8;
	DECLARE v_to2, v_mid2, v_bal2, v_tobal2 BIGINT DEFAULT 0;
	DECLARE v_to_name2 VARCHAR(32) DEFAULT NULL;
	DECLARE v_state3 TINYINT DEFAULT 8;
	DECLARE v_to3, v_mid3, v_bal3, v_tobal3 BIGINT DEFAULT 0;
	DECLARE v_to_name3 VARCHAR(32) DEFAULT NULL;
	DECLARE v_state4 TINYINT DEFAULT 8;
	DECLARE v_to4, v_mid4, v_bal4, v_tobal4 BIGINT DEFAULT 0;
	DECLARE v_to_name4 VARCHAR(32) DEFAULT NULL;
	DECLARE v_state5 TINYINT DEFAULT 8;
	DECLARE v_to5, v_mid5, v_bal5, v_tobal5 BIGINT DEFAULT 0;
	DECLARE v_to_name5 VARCHAR(32) DEFAULT NULL;
	DECLARE v_state6 TINYINT DEFAULT 8;
	DECLARE v_to6, v_mid6, v_bal6, v_tobal6 BIGINT DEFAULT 0;
	DECLARE v_to_name6 VARCHAR(32) DEFAULT NULL;
	DECLARE v_state7 TINYINT DEFAULT 8;
	DECLARE v_to7, v_mid7, v_bal7, v_tobal7 BIGINT DEFAULT 0;
	DECLARE v_to_name7 VARCHAR(32) DEFAULT NULL;
	DECLARE v_state8 TINYINT DEFAULT 8;
	DECLARE v_to8, v_mid8, v_bal8, v_tobal8 BIGINT DEFAULT 0;
	DECLARE v_to_name8 VARCHAR(32) DEFAULT NULL;
	DECLARE v_fees BIGINT DEFAULT 0;
	DECLARE v_locked INT DEFAULT 0;
	-- SYSDATE, not NOW: the clock, not the CALL's start.
	DECLARE v_t0 DATETIME(6) DEFAULT SYSDATE(6);
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;

	-- 1. Who pays, and who is paid.
	IF p_from1 > 0 THEN
		CALL payd_transfer_who(p_from1, p_from_name1,
		    p_from_gen1, p_to1, p_to_name1, v_state1, v_to1,
		    v_to_name1);
	END IF;
	IF p_from2 > 0 THEN
		CALL payd_transfer_who(p_from2, p_from_name2,
		    p_from_gen2, p_to2, p_to_name2, v_state2, v_to2,
		    v_to_name2);
	END IF;
	IF p_from3 > 0 THEN
		CALL payd_transfer_who(p_from3, p_from_name3,
		    p_from_gen3, p_to3, p_to_name3, v_state3, v_to3,
		    v_to_name3);
	END IF;
	IF p_from4 > 0 THEN
		CALL payd_transfer_who(p_from4, p_from_name4,
		    p_from_gen4, p_to4, p_to_name4, v_state4, v_to4,
		    v_to_name4);
	END IF;
	IF p_from5 > 0 THEN
		CALL payd_transfer_who(p_from5, p_from_name5,
		    p_from_gen5, p_to5, p_to_name5, v_state5, v_to5,
		    v_to_name5);
	END IF;
	IF p_from6 > 0 THEN
		CALL payd_transfer_who(p_from6, p_from_name6,
		    p_from_gen6, p_to6, p_to_name6, v_state6, v_to6,
		    v_to_name6);
	END IF;
	IF p_from7 > 0 THEN
		CALL payd_transfer_who(p_from7, p_from_name7,
		    p_from_gen7, p_to7, p_to_name7, v_state7, v_to7,
		    v_to_name7);
	END IF;
	IF p_from8 > 0 THEN
		CALL payd_transfer_who(p_from8, p_from_name8,
		    p_from_gen8, p_to8, p_to_name8, v_state8, v_to8,
		    v_to_name8);
	END IF;

	-- 2. The transaction, and its users' rows in ascending id order.
	START TRANSACTION;
	SELECT COUNT(*) INTO v_locked FROM users WHERE id IN (
	    IF(v_state1 = 0, p_from1, NULL), IF(v_state1 = 0, v_to1, NULL),
	    IF(v_state2 = 0, p_from2, NULL), IF(v_state2 = 0, v_to2, NULL),
	    IF(v_state3 = 0, p_from3, NULL), IF(v_state3 = 0, v_to3, NULL),
	    IF(v_state4 = 0, p_from4, NULL), IF(v_state4 = 0, v_to4, NULL),
	    IF(v_state5 = 0, p_from5, NULL), IF(v_state5 = 0, v_to5, NULL),
	    IF(v_state6 = 0, p_from6, NULL), IF(v_state6 = 0, v_to6, NULL),
	    IF(v_state7 = 0, p_from7, NULL), IF(v_state7 = 0, v_to7, NULL),
	    IF(v_state8 = 0, p_from8, NULL), IF(v_state8 = 0, v_to8, NULL))
	    FOR UPDATE;
	-- Each row may have waited up to the lock wait; past p_lock_ms in all
	-- the app may have stopped reading, so nothing commits: as a lock-wait
	-- timeout (1205), the app runs each transfer on its own.
	IF TIMESTAMPDIFF(MICROSECOND, v_t0, SYSDATE(6)) > p_lock_ms * 1000 THEN
		SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = 1205,
		    MESSAGE_TEXT = 'payd_transfer_batch: row locks took too long';
	END IF;

	-- 3. The moves and the ledger rows, slot by slot.
	CALL payd_transfer_move(p_from1, v_to1, p_amount1, p_fee1,
	    p_room1, p_fee_account, p_at, v_state1, v_mid1, v_bal1,
	    v_tobal1, v_fees);
	CALL payd_transfer_move(p_from2, v_to2, p_amount2, p_fee2,
	    p_room2, p_fee_account, p_at, v_state2, v_mid2, v_bal2,
	    v_tobal2, v_fees);
	CALL payd_transfer_move(p_from3, v_to3, p_amount3, p_fee3,
	    p_room3, p_fee_account, p_at, v_state3, v_mid3, v_bal3,
	    v_tobal3, v_fees);
	CALL payd_transfer_move(p_from4, v_to4, p_amount4, p_fee4,
	    p_room4, p_fee_account, p_at, v_state4, v_mid4, v_bal4,
	    v_tobal4, v_fees);
	CALL payd_transfer_move(p_from5, v_to5, p_amount5, p_fee5,
	    p_room5, p_fee_account, p_at, v_state5, v_mid5, v_bal5,
	    v_tobal5, v_fees);
	CALL payd_transfer_move(p_from6, v_to6, p_amount6, p_fee6,
	    p_room6, p_fee_account, p_at, v_state6, v_mid6, v_bal6,
	    v_tobal6, v_fees);
	CALL payd_transfer_move(p_from7, v_to7, p_amount7, p_fee7,
	    p_room7, p_fee_account, p_at, v_state7, v_mid7, v_bal7,
	    v_tobal7, v_fees);
	CALL payd_transfer_move(p_from8, v_to8, p_amount8, p_fee8,
	    p_room8, p_fee_account, p_at, v_state8, v_mid8, v_bal8,
	    v_tobal8, v_fees);

	-- 4. The fee sub-account, last.
	UPDATE fee_accounts SET balance = balance + v_fees
	    WHERE id = p_fee_account;
	IF v_fees > 0 AND ROW_COUNT() <> 1 THEN
		SIGNAL SQLSTATE '45000'
		    SET MESSAGE_TEXT = 'payd_transfer_batch: no such fee account';
	END IF;

	-- 5. Commit, then the answers.
	COMMIT;
	SELECT 1, v_state1, v_to1, v_to_name1, v_mid1, v_bal1, v_tobal1
	UNION ALL
	SELECT 2, v_state2, v_to2, v_to_name2, v_mid2, v_bal2, v_tobal2
	UNION ALL
	SELECT 3, v_state3, v_to3, v_to_name3, v_mid3, v_bal3, v_tobal3
	UNION ALL
	SELECT 4, v_state4, v_to4, v_to_name4, v_mid4, v_bal4, v_tobal4
	UNION ALL
	SELECT 5, v_state5, v_to5, v_to_name5, v_mid5, v_bal5, v_tobal5
	UNION ALL
	SELECT 6, v_state6, v_to6, v_to_name6, v_mid6, v_bal6, v_tobal6
	UNION ALL
	SELECT 7, v_state7, v_to7, v_to_name7, v_mid7, v_bal7, v_tobal7
	UNION ALL
	SELECT 8, v_state8, v_to8, v_to_name8, v_mid8, v_bal8, v_tobal8;
END;
