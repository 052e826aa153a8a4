-- The end of a request's transaction (payd_txn_begin,
-- sql/R__payd_txn_begin.sql): with p_state other than 0 (a refusal, enum
-- ledger_state) ROLLBACK, nothing is kept (a ROLLBACK with no transaction
-- open does nothing); else COMMIT, unless there is a key: then the
-- transaction stays open and the app stores its answer under the key and
-- commits (app/idem.c), so that the key and the movement are one atomic
-- write.
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_txn_end(
    IN p_state TINYINT, IN p_key VARBINARY(255))
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'a request''s transaction ended (sql/R__payd_txn_end.sql)'
BEGIN
	IF p_state <> 0 THEN
		ROLLBACK;
	ELSEIF p_key IS NULL THEN
		COMMIT;
	END IF;
END;
