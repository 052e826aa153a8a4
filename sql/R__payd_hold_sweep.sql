-- The hold sweeper's tick (app/sweeper.c): every app instance calls it
-- about once a second; the one holding the lease expires the holds that
-- are due, so a pending hold stops counting against available within a
-- few seconds of its expires_at, with or without traffic (docs/money.md).
--
--   1. the lease: a conditional UPDATE of the 'hold_sweeper' row of leases
--      (sql/004_holds.sql) takes it when it has run out, or renews it for
--      its holder, for p_lease_ms on the database's clock. GET_LOCK would
--      not do: a Galera cluster does not share it between nodes. Without
--      the lease, answers -1 and does nothing;
--   2. up to p_max holds pending with expires_at <= p_at, each in its own
--      short transaction: its row locked and found still pending (a
--      capture or a void may have ended it meanwhile), marked expired, and
--      its reservation released from the payer's row (locked after the
--      hold's, as captures and voids lock them).
-- Answers one row: how many it expired, or -1.
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_hold_sweep(
    IN p_holder VARCHAR(96), IN p_at DATETIME, IN p_lease_ms INT,
    IN p_max INT)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'the hold sweeper tick (sql/R__payd_hold_sweep.sql)'
proc: BEGIN
	DECLARE v_n INT DEFAULT 0;
	DECLARE v_id, v_from, v_res BIGINT DEFAULT NULL;
	DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_id = NULL;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;

	UPDATE leases SET holder = p_holder,
	    until = NOW(6) + INTERVAL p_lease_ms * 1000 MICROSECOND
	    WHERE name = 'hold_sweeper' AND (until < NOW(6) OR
	    holder = p_holder);
	IF ROW_COUNT() <> 1 THEN
		SELECT -1;
		LEAVE proc;
	END IF;
	sweep: WHILE v_n < p_max DO
		SET v_id = NULL;
		SELECT id INTO v_id FROM holds
		    WHERE status = 'pending' AND expires_at <= p_at
		    ORDER BY expires_at, id LIMIT 1;
		IF v_id IS NULL THEN
			LEAVE sweep;
		END IF;
		START TRANSACTION;
		SET v_from = NULL;
		SELECT from_user, amount + fee INTO v_from, v_res FROM holds
		    WHERE id = v_id AND status = 'pending' FOR UPDATE;
		IF v_from IS NOT NULL THEN
			UPDATE holds SET status = 'expired' WHERE id = v_id;
			UPDATE users SET reserved = reserved - v_res
			    WHERE id = v_from;
		END IF;
		COMMIT;
		SET v_n = v_n + 1;
	END WHILE sweep;
	SELECT v_n;
END;
