-- Step 4 of a capture (sql/R__payd_hold_end.sql), in its open transaction
-- with the hold's row locked and found pending: both users' rows locked in
-- ascending id order (as every transfer takes them), the hold's whole
-- reservation released, then the transfer of captured + fee
-- (payd_transfer_move), marked with the hold, the hold marked captured,
-- and the fee sub-account p_fee_account (payd_hold_end picked it with
-- payd_fee_account) credited last (payd_fee_credit). p_state as
-- payd_transfer_move sets it: 9 the payer is frozen (payd_debit), 5 the
-- recipient's cap; the caller then rolls back.
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_hold_capture_move(
    IN p_hold BIGINT, IN p_from BIGINT, IN p_to BIGINT,
    IN p_hold_amount BIGINT, IN p_hold_fee BIGINT,
    IN p_amount BIGINT, IN p_fee BIGINT, IN p_balance_max BIGINT,
    IN p_fee_account INT, IN p_at DATETIME, INOUT p_state TINYINT)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'a capture, step 4 (sql/R__payd_hold_capture_move.sql)'
proc: BEGIN
	DECLARE v_amount BIGINT DEFAULT IF(p_amount = 0, p_hold_amount,
	    p_amount);
	DECLARE v_fee BIGINT DEFAULT IF(p_amount = 0, p_hold_fee,
	    LEAST(p_fee, p_hold_fee));
	DECLARE v_n, v_mid, v_bal, v_tobal, v_fees BIGINT DEFAULT 0;

	SELECT COUNT(*) INTO v_n FROM users WHERE id IN (p_from, p_to)
	    FOR UPDATE;
	UPDATE users SET reserved = reserved - (p_hold_amount + p_hold_fee)
	    WHERE id = p_from;
	CALL payd_transfer_move(p_from, p_to, v_amount, v_fee,
	    p_balance_max - v_amount, p_fee_account, p_at, p_state, v_mid,
	    v_bal, v_tobal, v_fees);
	IF p_state <> 0 THEN
		LEAVE proc;
	END IF;
	UPDATE movements SET hold_id = p_hold WHERE id = v_mid;
	UPDATE holds SET status = 'captured', captured = v_amount,
	    transfer_id = v_mid WHERE id = p_hold;
	CALL payd_fee_credit(p_fee_account, v_fees);
END;
