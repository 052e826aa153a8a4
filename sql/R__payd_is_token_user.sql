-- The caller check's rule, its one place: a users row (p_username,
-- p_token_gen) is the token's user (the token's name p_name and
-- generation p_gen) when the names are equal byte for byte (should an id
-- ever be reused after its user was deleted, an old token would not open
-- the new account) and the generations are equal (a token issued before
-- a POST /logout or POST /password is refused: sql/003_accounts.sql).
-- Never NULL. A function of the row's values, with no read of its own,
-- so that a statement that reads the row anyway checks it for a few
-- microseconds: the app's read of the caller's row for every route but
-- the money CALLs (STMT_USER_GET and STMT_USER_BATCH in app/db.c, for
-- auth_user and auth_users_load in app/auth.c), and payd_caller_is
-- (sql/R__payd_caller_is.sql) for the procedures.
CREATE OR REPLACE DEFINER = payd_owner FUNCTION payd_is_token_user(
    p_username VARCHAR(32), p_token_gen BIGINT,
    p_name VARCHAR(32), p_gen BIGINT)
    RETURNS BOOLEAN
    DETERMINISTIC
    NO SQL
    SQL SECURITY DEFINER
    COMMENT 'the caller check rule (sql/R__payd_is_token_user.sql)'
RETURN COALESCE(CAST(p_username AS BINARY) = CAST(p_name AS BINARY) AND
    p_token_gen = p_gen, FALSE);
