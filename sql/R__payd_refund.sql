-- POST /transfers/{id}/refund in one round trip: the recipient of a
-- transfer sends part or all of it back to its sender; no fee is charged,
-- and the transfer's own fee stays with the fee account (docs/money.md).
--
--   1. the caller, as every route checks it (payd_caller_is: id, name
--      and token generation);
--   2. START TRANSACTION, then the Idempotency-Key's row when there is a
--      key (payd_txn_begin);
--   3. the transfer's row, locked (FOR UPDATE): concurrent refunds of one
--      transfer take their turn on it, so each sees what the others
--      refunded. Not a transfer or neither party 10 (404), its sender 11
--      (403); p_amount 0 means what is left; more than is left (or
--      nothing left, or the transfer reversed) 15 (422
--      refund_exceeds_transfer);
--   4. both users' rows locked in ascending id order; the debit of the
--      refunder (payd_debit, sql/R__payd_debit.sql: 9 a frozen account,
--      4 its available, balance - reserved, short), the credit of the
--      sender only under the
--      cap (5 limit_exceeded); the transfer's refunded total; the refund's
--      movement (kind refund, transfer_id) and its two entries
--      (refund_out, refund_in), which sum to zero;
--   5. COMMIT unless there is a key (the app stores the answer first),
--      or ROLLBACK on a refusal (payd_txn_end).
-- Answers one row: state (enum ledger_state: also 1 caller gone, 6 key
-- taken, 7 key busy), the refund's movement id, its amount, the
-- transfer's refunded total, the refunder's balance after, the sender's
-- name. Nothing is left open unless state is 0 and there is a key.
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_refund(
    IN p_user BIGINT, IN p_user_name VARCHAR(32), IN p_user_gen BIGINT,
    IN p_transfer BIGINT,
    IN p_amount BIGINT, IN p_balance_max BIGINT, IN p_at DATETIME,
    IN p_key VARBINARY(255), IN p_canon VARBINARY(96))
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'POST /transfers/{id}/refund (sql/R__payd_refund.sql)'
proc: BEGIN
	DECLARE v_state TINYINT DEFAULT 0;
	DECLARE v_from, v_to, v_amount, v_refunded BIGINT DEFAULT 0;
	DECLARE v_rev BIGINT DEFAULT NULL;
	DECLARE v_kind VARCHAR(16) DEFAULT NULL;
	DECLARE v_amt, v_n, v_mid, v_bal, v_frombal BIGINT DEFAULT 0;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;

	IF NOT payd_caller_is(p_user, p_user_name, p_user_gen) THEN
		SELECT 1, 0, 0, 0, 0, NULL;
		LEAVE proc;
	END IF;
	CALL payd_txn_begin(p_user, p_key, p_canon, v_state);
	body: BEGIN
		DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_kind = NULL;
		IF v_state <> 0 THEN
			LEAVE body;
		END IF;
		SELECT kind, from_user, to_user, amount, refunded, reversed_by
		    INTO v_kind, v_from, v_to, v_amount, v_refunded, v_rev
		    FROM movements WHERE id = p_transfer FOR UPDATE;
		SET v_amt = IF(p_amount = 0, v_amount - v_refunded, p_amount);
		IF v_kind IS NULL OR v_kind <> 'transfer' OR
		    (v_from <> p_user AND v_to <> p_user) THEN
			SET v_state = 10;
		ELSEIF v_to <> p_user THEN
			SET v_state = 11;
		ELSEIF v_rev IS NOT NULL OR v_amt <= 0 OR
		    v_amt > v_amount - v_refunded THEN
			SET v_state = 15;
		END IF;
		IF v_state <> 0 THEN
			LEAVE body;
		END IF;
		SELECT COUNT(*) INTO v_n FROM users WHERE id IN (v_from, v_to)
		    FOR UPDATE;
		CALL payd_debit(p_user, v_amt, v_state);
		IF v_state <> 0 THEN
			LEAVE body;
		END IF;
		UPDATE users SET balance = balance + v_amt
		    WHERE id = v_from AND balance <= p_balance_max - v_amt;
		IF ROW_COUNT() <> 1 THEN
			SET v_state = 5;
			LEAVE body;
		END IF;
		SET v_refunded = v_refunded + v_amt;
		UPDATE movements SET refunded = v_refunded
		    WHERE id = p_transfer;
		SET v_bal = (SELECT balance FROM users WHERE id = p_user);
		SET v_frombal = (SELECT balance FROM users WHERE id = v_from);
		INSERT INTO movements (kind, from_user, to_user, amount, fee,
		    transfer_id, created_at)
		    VALUES ('refund', p_user, v_from, v_amt, 0, p_transfer, p_at);
		SET v_mid = LAST_INSERT_ID();
		INSERT INTO entries (account_kind, account_id, movement_id, type,
		    delta, balance_after, counterparty_id, created_at)
		    VALUES ('user', p_user, v_mid, 'refund_out', -v_amt, v_bal,
		    v_from, payd_entry_at(p_user, p_at)),
		    ('user', v_from, v_mid, 'refund_in', v_amt, v_frombal,
		    p_user, payd_entry_at(v_from, p_at));
	END body;
	CALL payd_txn_end(v_state, p_key);
	SELECT v_state, v_mid, v_amt, v_refunded, v_bal,
	    (SELECT username FROM users WHERE id = v_from);
END;
