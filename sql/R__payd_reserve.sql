-- A hold's reservation (payd_hold_create, sql/R__payd_hold_create.sql):
-- the rules of a payer's debit (payd_debit, sql/R__payd_debit.sql) applied
-- to reserved instead of balance. In the caller's open transaction, one
-- UPDATE under the payer's row lock: reserved grows by p_total only from
-- an account that is not frozen (p_state 9, 403 account_frozen) and whose
-- available, balance - reserved, covers it (p_state 4, 422
-- insufficient_funds; frozen wins). p_state 0: reserved.
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_reserve(
    IN p_user BIGINT, IN p_total BIGINT, OUT p_state TINYINT)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'a hold''s reservation (sql/R__payd_reserve.sql)'
BEGIN
	UPDATE users SET reserved = reserved + p_total
	    WHERE id = p_user AND balance - reserved >= p_total AND
	    frozen_at IS NULL;
	IF ROW_COUNT() = 1 THEN
		SET p_state = 0;
	ELSEIF (SELECT frozen_at FROM users WHERE id = p_user) IS NOT NULL
	    THEN
		SET p_state = 9;
	ELSE
		SET p_state = 4;
	END IF;
END;
