-- The Idempotency-Key protocol's first step, called by payd_txn_begin
-- (sql/R__payd_txn_begin.sql) for every procedure that takes a key: in
-- the caller's open transaction, before any money moves, insert the key's
-- row with the request's hash and no answer yet. A concurrent request with
-- the same key waits on this row's lock until the first one ends.
--
-- p_canon is the canonical request, hashed here: a transfer's is short, a
-- batch's (sql/R__payd_payout.sql) up to about 90 KB.
--
-- p_state (enum ledger_state of include/ledger.h): 0 claimed; 6 the key is
-- taken (a committed request holds it: the app replays or refuses it);
-- 7 it is still held by a request that outlasted the lock wait (409).
-- Any other error is raised to the caller, which rolls back.
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_claim_key(
    IN p_user BIGINT, IN p_key VARBINARY(255), IN p_canon MEDIUMBLOB,
    OUT p_state TINYINT)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'Idempotency-Key claim (sql/R__payd_claim_key.sql)'
BEGIN
	DECLARE EXIT HANDLER FOR 1062 SET p_state = 6;
	DECLARE EXIT HANDLER FOR 1205 SET p_state = 7;
	SET p_state = 0;
	INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status,
	    response)
	    VALUES (p_user, p_key, UNHEX(SHA2(p_canon, 256)), NULL, NULL);
END;
