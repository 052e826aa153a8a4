-- A hold's reservation (payd_hold_create, sql/R__payd_hold_create.sql):
-- the rules of a payer's debit, checked by payd_debit itself
-- (sql/R__payd_debit.sql, their one place: 9 a frozen account, 403
-- account_frozen; 4 its available, balance - reserved, short of p_total,
-- 422 insufficient_funds; frozen wins). In the caller's open transaction,
-- under the payer's row lock: payd_debit takes p_total from balance, then
-- it goes back to balance and to reserved, so that only reserved has grown
-- by p_total (the CHECK reserved <= balance holds after each UPDATE: the
-- debit left balance - total >= reserved). p_state 0: reserved; on a
-- refusal nothing changed.
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_reserve(
    IN p_user BIGINT, IN p_total BIGINT, OUT p_state TINYINT)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'a hold''s reservation (sql/R__payd_reserve.sql)'
BEGIN
	CALL payd_debit(p_user, p_total, p_state);
	IF p_state = 0 THEN
		UPDATE users SET balance = balance + p_total,
		    reserved = reserved + p_total
		    WHERE id = p_user;
	END IF;
END;
