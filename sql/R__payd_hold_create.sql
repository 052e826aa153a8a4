-- POST /holds in one round trip: reserve amount + fee from the payer's
-- available for a recipient, who may capture it later (docs/money.md).
--
--   1. payd_transfer_who (sql/R__payd_transfer_who.sql): the caller and
--      the recipient, by id or by name, and not the caller;
--   2. START TRANSACTION, then the Idempotency-Key's row when there is a
--      key (payd_txn_begin);
--   3. the reservation (payd_reserve, sql/R__payd_reserve.sql): reserved
--      grows by amount + fee, only if the payer is not frozen and its
--      available (balance - reserved) covers it, in one statement under
--      the payer's row lock; then the hold's row;
--   4. COMMIT, unless there is a key: the app stores its answer under the
--      key and commits (app/idem.c); ROLLBACK on a refusal (payd_txn_end).
-- Answers payd_hold_answer's row; its state (enum ledger_state,
-- include/ledger.h): 0 done, 1 caller gone, 2 oneself, 3 no
-- such recipient, 4 insufficient funds, 9 the payer is frozen, 6 key
-- taken, 7 key busy. Nothing
-- is left open unless the state is 0 and there is a key.
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_hold_create(
    IN p_from BIGINT, IN p_from_name VARCHAR(32), IN p_from_gen BIGINT,
    IN p_to BIGINT, IN p_to_name VARCHAR(32),
    IN p_amount BIGINT, IN p_fee BIGINT, IN p_expires_in INT,
    IN p_at DATETIME, IN p_key VARBINARY(255), IN p_canon VARBINARY(96))
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'POST /holds in one round trip (sql/R__payd_hold_create.sql)'
proc: BEGIN
	DECLARE v_state TINYINT DEFAULT 0;
	DECLARE v_to BIGINT DEFAULT NULL;
	DECLARE v_to_name VARCHAR(32) DEFAULT NULL;
	DECLARE v_hold BIGINT DEFAULT 0;
	DECLARE v_avail BIGINT DEFAULT 0;
	DECLARE v_total BIGINT DEFAULT p_amount + p_fee;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;

	CALL payd_transfer_who(p_from, p_from_name, p_from_gen, p_to,
	    p_to_name, v_state, v_to, v_to_name);
	IF v_state <> 0 THEN
		CALL payd_hold_answer(v_state, 0, p_at, 0);
		LEAVE proc;
	END IF;
	CALL payd_txn_begin(p_from, p_key, p_canon, v_state);
	body: BEGIN
		IF v_state <> 0 THEN
			LEAVE body;
		END IF;
		CALL payd_reserve(p_from, v_total, v_state);
		IF v_state <> 0 THEN
			LEAVE body;
		END IF;
		INSERT INTO holds (from_user, to_user, amount, fee, expires_at,
		    created_at)
		    VALUES (p_from, v_to, p_amount, p_fee,
		    p_at + INTERVAL p_expires_in SECOND, p_at);
		SET v_hold = LAST_INSERT_ID();
		SET v_avail = (SELECT balance - reserved FROM users
		    WHERE id = p_from);
	END body;
	CALL payd_txn_end(v_state, p_key);
	CALL payd_hold_answer(v_state, v_hold, p_at, v_avail);
END;
