-- Step 1 of a transfer, shared by payd_transfer and payd_transfer_many
-- (sql/R__payd_transfer.sql, sql/R__payd_transfer_many.sql): who pays
-- and who is paid, read outside any transaction (the moves check the rows
-- again under their locks).
--
-- The caller's row is read and checked by the rule of payd_is_token_user
-- (sql/R__payd_is_token_user.sql: the token's user id must still exist
-- under the token's name, with the token's generation, p_from_gen, still
-- the user's), in one read: what payd_caller_is does, without a second
-- function call on this hot path. The recipient is
-- found by id (p_to > 0) or by username (p_to = 0; without regard to
-- case, the column's collation), its id and name in one read.
--
-- p_state (enum ledger_state, include/ledger.h): 0 go on, 1 the caller is gone
-- (401), 3 no such recipient (404), 2 a transfer to oneself (400), checked
-- in this order.
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_transfer_who(
    IN p_from BIGINT, IN p_from_name VARCHAR(32), IN p_from_gen BIGINT,
    IN p_to BIGINT, IN p_to_name VARCHAR(32),
    OUT p_state TINYINT, OUT p_to_id BIGINT, OUT p_to_out VARCHAR(32))
    READS SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'POST /transfer, step 1 (sql/R__payd_transfer_who.sql)'
BEGIN
	DECLARE v_caller BOOLEAN DEFAULT FALSE;
	-- No such row leaves the variables as they are, and no warning.
	DECLARE CONTINUE HANDLER FOR NOT FOUND BEGIN END;

	SET p_state = 0, p_to_id = NULL, p_to_out = NULL;
	SELECT payd_is_token_user(username, token_gen, p_from_name, p_from_gen)
	    INTO v_caller FROM users WHERE id = p_from;
	IF p_to > 0 THEN
		SET p_to_id = p_to;
		SELECT username INTO p_to_out FROM users WHERE id = p_to;
	ELSE
		SELECT id, username INTO p_to_id, p_to_out FROM users
		    WHERE username = p_to_name;
	END IF;
	IF NOT v_caller THEN
		SET p_state = 1;
	ELSEIF p_to_out IS NULL THEN
		SET p_state = 3;
	ELSEIF p_to_id = p_from THEN
		SET p_state = 2;
	END IF;
END;
