-- The status a hold shows at p_at (API.md Expiry): a pending hold at or
-- past its expires_at reads "expired", whether or not the sweeper
-- (sql/R__payd_hold_sweep.sql) has marked it yet.
CREATE OR REPLACE DEFINER = payd_owner FUNCTION payd_hold_shown(
    p_status VARCHAR(16), p_expires DATETIME, p_at DATETIME)
    RETURNS VARCHAR(16) CHARACTER SET ascii
    DETERMINISTIC
    NO SQL
    SQL SECURITY DEFINER
    COMMENT 'a hold status as shown (sql/R__payd_hold_shown.sql)'
BEGIN
	RETURN IF(p_status = 'pending' AND p_expires <= p_at, 'expired',
	    p_status);
END;
