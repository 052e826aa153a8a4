-- The start of a request's transaction, shared by every procedure that
-- takes an Idempotency-Key (payd_deposit, payd_transfer, payd_hold_create,
-- payd_hold_end, payd_refund, payd_payout): START TRANSACTION, then the
-- key's row when there is a key (payd_claim_key, sql/R__payd_claim_key.sql),
-- first, before anything is read under a lock: a concurrent request with
-- the same key waits on that row. p_state 0: the transaction is open;
-- 6 the key is taken, 7 it is held by a request still running (enum
-- ledger_state, include/ledger.h): then it is rolled back already. The
-- caller ends it with payd_txn_end (sql/R__payd_txn_end.sql).
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_txn_begin(
    IN p_user BIGINT, IN p_key VARBINARY(255), IN p_canon MEDIUMBLOB,
    OUT p_state TINYINT)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'a request''s transaction and key (sql/R__payd_txn_begin.sql)'
BEGIN
	SET p_state = 0;
	START TRANSACTION;
	IF p_key IS NOT NULL THEN
		CALL payd_claim_key(p_user, p_key, p_canon, p_state);
		IF p_state <> 0 THEN
			ROLLBACK;
		END IF;
	END IF;
END;
