-- The caller check, the one place of its rule: true when the token's user
-- id still exists under the token's name, compared byte for byte (should
-- an id ever be reused after its user was deleted, an old token would not
-- open the new account), and the token's generation is the user's current
-- one (a token issued before a POST /logout or POST /password is refused:
-- sql/003_accounts.sql). Called by every procedure a request CALLs
-- (payd_deposit, payd_transfer_who for payd_transfer, payd_transfer_many
-- and payd_hold_create, payd_hold_end, payd_refund, payd_payout) and, for
-- every other route, by the app's read of the caller's row (auth_user and
-- auth_users_load in app/auth.c: STMT_USER_GET, STMT_USER_BATCH). A read
-- outside any transaction: the money moves that follow check the row
-- again under its lock.
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
