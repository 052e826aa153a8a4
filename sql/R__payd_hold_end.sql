-- POST /holds/{id}/capture and POST /holds/{id}/void in one round trip
-- each: a hold ends exactly once (docs/money.md). The hold's row is locked
-- first (FOR UPDATE), so of a capture, a void and the sweeper racing for
-- it, one ends it and the others find it no longer pending.
--
--   1. the caller, as every route checks it (payd_caller_is: id, name
--      and token generation);
--   2. START TRANSACTION, then the Idempotency-Key's row when there is a
--      key (payd_txn_begin);
--   3. the hold, locked, and who may end it: neither party 10 (404, as if
--      it did not exist), its payer 11 (403); then 12 captured or voided,
--      13 expired (by the sweeper, or pending at or past expires_at: a
--      capture then is refused whatever the sweeper has done);
--   4. capture (p_capture true): 14 when p_amount is above the hold's
--      amount; both users' rows locked in ascending id order, the whole
--      reservation released, then the transfer of payd_transfer_move
--      (sql/R__payd_transfer_move.sql: captured + fee from the payer,
--      captured to the recipient; 9 when the payer is frozen, 5 over the
--      recipient's cap) with the
--      hold's id, and the fee sub-account (payd_fee_account picks it from
--      p_fee_account, the app's number). p_amount 0 captures the whole
--      amount for the hold's own fee; a part pays LEAST(p_fee, the hold's
--      fee), so never more than was reserved.
--      void: the whole reservation released;
--   5. COMMIT unless there is a key (the app stores the answer first),
--      or ROLLBACK on a refusal (payd_txn_end).
-- Answers payd_hold_answer's row (state: enum ledger_state, as named
-- above; 1 caller gone, 6 key taken, 7 key busy).
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_hold_end(
    IN p_user BIGINT, IN p_user_name VARCHAR(32), IN p_user_gen BIGINT,
    IN p_hold BIGINT,
    IN p_capture BOOLEAN, IN p_amount BIGINT, IN p_fee BIGINT,
    IN p_balance_max BIGINT, IN p_fee_account INT, IN p_at DATETIME,
    IN p_key VARBINARY(255), IN p_canon VARBINARY(96))
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'a hold captured or voided (sql/R__payd_hold_end.sql)'
proc: BEGIN
	DECLARE v_state TINYINT DEFAULT 0;
	DECLARE v_from, v_to, v_amount, v_fee BIGINT DEFAULT 0;
	DECLARE v_status VARCHAR(16) DEFAULT NULL;
	DECLARE v_expires DATETIME DEFAULT NULL;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;

	IF NOT payd_caller_is(p_user, p_user_name, p_user_gen) THEN
		CALL payd_hold_answer(1, 0, p_at, 0);
		LEAVE proc;
	END IF;
	SET p_fee_account = payd_fee_account(p_fee_account);
	CALL payd_txn_begin(p_user, p_key, p_canon, v_state);
	body: BEGIN
		DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_status = NULL;
		IF v_state <> 0 THEN
			LEAVE body;
		END IF;
		SELECT from_user, to_user, amount, fee, status, expires_at
		    INTO v_from, v_to, v_amount, v_fee, v_status, v_expires
		    FROM holds WHERE id = p_hold FOR UPDATE;
		IF v_status IS NULL OR (v_from <> p_user AND v_to <> p_user)
		    THEN
			SET v_state = 10;
		ELSEIF v_to <> p_user THEN
			SET v_state = 11;
		ELSEIF v_status = 'captured' OR v_status = 'voided' THEN
			SET v_state = 12;
		ELSEIF v_status = 'expired' OR p_at >= v_expires THEN
			SET v_state = 13;
		ELSEIF p_capture AND p_amount > v_amount THEN
			SET v_state = 14;
		END IF;
		IF v_state <> 0 THEN
			LEAVE body;
		END IF;
		IF p_capture THEN
			CALL payd_hold_capture_move(p_hold, v_from, v_to,
			    v_amount, v_fee, p_amount, p_fee, p_balance_max,
			    p_fee_account, p_at, v_state);
		ELSE
			UPDATE holds SET status = 'voided' WHERE id = p_hold;
			UPDATE users SET reserved = reserved - (v_amount + v_fee)
			    WHERE id = v_from;
		END IF;
	END body;
	CALL payd_txn_end(v_state, p_key);
	CALL payd_hold_answer(v_state, p_hold, p_at, 0);
END;
