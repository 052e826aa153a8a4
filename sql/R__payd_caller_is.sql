-- The caller check of payd_deposit and payd_transfer
-- (sql/R__payd_deposit.sql, sql/R__payd_transfer.sql), as auth_user()
-- (app/auth.c) makes it for every other route: true when the token's user id still
-- exists under the token's name, compared byte for byte (should an id
-- ever be reused after its user was deleted, an old token would not open
-- the new account), and the token's generation is the user's current one
-- (a token issued before a POST /logout or POST /password is refused:
-- sql/003_accounts.sql). A read outside any transaction: the money moves
-- that follow check the row again under its lock.
CREATE OR REPLACE DEFINER = payd_owner FUNCTION payd_caller_is(
    p_user BIGINT, p_name VARCHAR(32), p_gen BIGINT)
    RETURNS BOOLEAN
    READS SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'the token user check (sql/R__payd_caller_is.sql)'
BEGIN
	DECLARE v_name VARCHAR(32) DEFAULT NULL;
	DECLARE v_gen BIGINT DEFAULT NULL;
	-- No such row leaves the variables NULL, and no warning.
	DECLARE CONTINUE HANDLER FOR NOT FOUND BEGIN END;
	SELECT username, token_gen INTO v_name, v_gen FROM users
	    WHERE id = p_user;
	RETURN v_name IS NOT NULL AND
	    CAST(v_name AS BINARY) = CAST(p_name AS BINARY) AND
	    v_gen = p_gen;
END;
