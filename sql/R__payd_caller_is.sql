-- The caller check of the procedures a request CALLs (payd_deposit,
-- payd_hold_end, payd_refund, payd_payout; payd_transfer_who applies the
-- same rule in its own read of the caller's row): true when
-- the token's user id p_user still exists and its row is the token's user
-- by payd_is_token_user (sql/R__payd_is_token_user.sql, the rule: the
-- token's name p_name and generation p_gen). A read outside any
-- transaction: the money moves that follow check the row again under its
-- lock.
CREATE OR REPLACE DEFINER = payd_owner FUNCTION payd_caller_is(
    p_user BIGINT, p_name VARCHAR(32), p_gen BIGINT)
    RETURNS BOOLEAN
    READS SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'the token user check (sql/R__payd_caller_is.sql)'
RETURN COALESCE((SELECT payd_is_token_user(username, token_gen, p_name,
    p_gen) FROM users WHERE id = p_user), FALSE);
