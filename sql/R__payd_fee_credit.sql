-- The fee credit, shared by every procedure that charges a fee
-- (payd_transfer, payd_transfer_many, payd_hold_capture_move via
-- payd_hold_end, payd_payout): in the caller's open transaction, last,
-- just before COMMIT, the fee sub-account p_account (payd_fee_account,
-- sql/R__payd_fee_account.sql) gets p_fees, the sum of the fees of the
-- movements the caller wrote on it. Its row is shared by many transfers,
-- so it is locked the shortest. A zero sum changes no row and is fine; a
-- real one that finds no row is an error (raised: the caller rolls back).
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_fee_credit(
    IN p_account INT, IN p_fees BIGINT)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'the fee sub-account credited (sql/R__payd_fee_credit.sql)'
BEGIN
	UPDATE fee_accounts SET balance = balance + p_fees
	    WHERE id = p_account;
	IF p_fees > 0 AND ROW_COUNT() <> 1 THEN
		SIGNAL SQLSTATE '45000'
		    SET MESSAGE_TEXT = 'payd_fee_credit: no such fee account';
	END IF;
END;
