-- The answer row of the hold procedures (payd_hold_create, payd_hold_capture,
-- payd_hold_void): the outcome p_state (enum ledger_state,
-- include/ledger.h), then the hold p_hold as GET /holds/{id} shows
-- it at p_at, then p_avail (the payer's available after, or 0). A hold
-- that is not there (or not to be shown: p_state is not 0) still gives
-- one row, its columns NULL.
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_hold_answer(
    IN p_state TINYINT, IN p_hold BIGINT, IN p_at DATETIME,
    IN p_avail BIGINT)
    READS SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'the hold procedures answer (sql/R__payd_hold_answer.sql)'
BEGIN
	SELECT p_state, h.id, fu.username, tu.username, h.amount, h.fee,
	    h.captured, h.transfer_id,
	    payd_hold_shown(h.status, h.expires_at, p_at),
	    DATE_FORMAT(h.created_at, '%Y-%m-%dT%H:%i:%sZ'),
	    DATE_FORMAT(h.expires_at, '%Y-%m-%dT%H:%i:%sZ'), p_avail
	    FROM (SELECT 1) AS one
	    LEFT JOIN holds h ON h.id = p_hold AND p_state = 0
	    LEFT JOIN users fu ON fu.id = h.from_user
	    LEFT JOIN users tu ON tu.id = h.to_user;
END;
