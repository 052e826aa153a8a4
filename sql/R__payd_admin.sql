-- The operator commands that change an account or move money (`payd admin
-- freeze|unfreeze|reverse`, app/admin.c, app/ledger_admin.c), each one
-- transaction in one CALL, each recorded in admin_actions (who, when, what,
-- on what, why, and how it ended) whatever its outcome: a refusal is
-- recorded after its rollback, a change in the same transaction.
--
-- Both answer one row: an outcome (their own numbers, not enum
-- ledger_state: app/ledger_admin.c reads them), then what the command
-- needs to report.

-- Freezes (p_freeze 1) or unfreezes (0) user p_user, recorded under
-- p_target (the user as the operator named it). outcome: 0 done,
-- 1 no such user, 2 already frozen (or not frozen). Then the id of the
-- admin_actions row. A freeze takes effect for every debit that comes
-- after its commit, on every app instance: payd_debit reads frozen_at
-- under the row lock this UPDATE takes (sql/R__payd_debit.sql).
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_admin_freeze(
    IN p_user BIGINT, IN p_freeze TINYINT, IN p_target VARCHAR(64),
    IN p_operator VARCHAR(64), IN p_reason VARCHAR(255), IN p_at DATETIME)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'payd admin freeze and unfreeze (sql/R__payd_admin.sql)'
BEGIN
	DECLARE v_outcome TINYINT DEFAULT 0;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;

	START TRANSACTION;
	IF p_freeze = 1 THEN
		UPDATE users SET frozen_at = p_at, frozen_reason = p_reason
		    WHERE id = p_user AND frozen_at IS NULL;
	ELSE
		UPDATE users SET frozen_at = NULL, frozen_reason = NULL
		    WHERE id = p_user AND frozen_at IS NOT NULL;
	END IF;
	IF ROW_COUNT() <> 1 THEN
		SET v_outcome = IF(EXISTS (SELECT 1 FROM users WHERE id = p_user),
		    2, 1);
	END IF;
	INSERT INTO admin_actions (operator, action, target, reason, outcome,
	    created_at)
	    VALUES (p_operator, IF(p_freeze = 1, 'freeze', 'unfreeze'),
	    p_target, p_reason,
	    CASE v_outcome WHEN 0 THEN 'done' WHEN 1 THEN 'no_such_user'
	    ELSE IF(p_freeze = 1, 'already_frozen', 'not_frozen') END, p_at);
	COMMIT;
	SELECT v_outcome, LAST_INSERT_ID();
END;

-- How much of transfer p_transfer its recipient has refunded: what a
-- reversal no longer takes back (movements.refunded, sql/004_holds.sql).
CREATE OR REPLACE DEFINER = payd_owner FUNCTION payd_transfer_refunded(
    p_transfer BIGINT)
    RETURNS BIGINT
    READS SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'refunded part of a transfer (sql/R__payd_admin.sql)'
BEGIN
	RETURN IFNULL((SELECT refunded FROM movements WHERE id = p_transfer),
	    0);
END;

-- What user p_user's pending holds reserve (users.reserved): its
-- available is balance minus this.
CREATE OR REPLACE DEFINER = payd_owner FUNCTION payd_user_reserved(
    p_user BIGINT)
    RETURNS BIGINT
    READS SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'reserved by pending holds (sql/R__payd_admin.sql)'
BEGIN
	RETURN IFNULL((SELECT reserved FROM users WHERE id = p_user), 0);
END;

-- How many holds user p_user has pending as payer.
CREATE OR REPLACE DEFINER = payd_owner FUNCTION payd_user_pending_holds(
    p_user BIGINT)
    RETURNS BIGINT
    READS SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'pending holds of a payer (sql/R__payd_admin.sql)'
BEGIN
	RETURN (SELECT COUNT(*) FROM holds
	    WHERE from_user = p_user AND status = 'pending');
END;

-- Reverses transfer p_transfer (a movement of kind 'transfer'), at most
-- once: in one transaction, under the transfer row's lock (a concurrent
-- reversal, or a refund, which locks it too, waits), the recipient gives
-- back what it did not refund (back = amount - refunded), the sender gets
-- back + fee, and the fee sub-account that took the fee gives it back;
-- one movement of kind 'reversal' (transfer_id = p_transfer, from the
-- recipient to the sender, amount back, fee the fee returned) with three
-- entries (reversal_out, reversal_in, fee_reversal), and the transfer's
-- reversed_by set. The users rows are locked in ascending id order, as
-- every transfer locks them, then the fee row, as transfers do last.
--
-- The recipient pays back even when frozen (an operator's correction);
-- only its available (balance minus what its holds reserve) must cover
-- it (outcome 3), and the sender's must stay
-- within p_cap (outcome 4, as 422 limit_exceeded). outcome: 0 done, 1 no
-- such transfer, 2 already reversed, 3 the recipient's balance is short,
-- 4 the sender's cap. Answers the outcome, the reversal's id, sender,
-- recipient, back, fee, and the admin_actions row's id.
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_admin_reverse(
    IN p_transfer BIGINT, IN p_cap BIGINT,
    IN p_operator VARCHAR(64), IN p_reason VARCHAR(255), IN p_at DATETIME)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'payd admin reverse (sql/R__payd_admin.sql)'
BEGIN
	DECLARE v_outcome TINYINT DEFAULT 0;
	DECLARE v_kind VARCHAR(16) DEFAULT NULL;
	DECLARE v_from, v_to, v_amount, v_fee, v_rev, v_acct BIGINT
	    DEFAULT NULL;
	DECLARE v_back, v_mid, v_bal_from, v_bal_to BIGINT DEFAULT 0;
	DECLARE v_deb, v_cred INT DEFAULT 0;
	-- No such row leaves the variables NULL, and no warning.
	DECLARE CONTINUE HANDLER FOR NOT FOUND BEGIN END;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;

	START TRANSACTION;
	SELECT kind, from_user, to_user, amount, fee, reversed_by
	    INTO v_kind, v_from, v_to, v_amount, v_fee, v_rev
	    FROM movements WHERE id = p_transfer FOR UPDATE;
	IF v_kind IS NULL OR v_kind <> 'transfer' THEN
		SET v_outcome = 1;
	ELSEIF v_rev IS NOT NULL THEN
		SET v_outcome = 2;
	ELSE
		SET v_back = v_amount - payd_transfer_refunded(p_transfer);
		IF v_from < v_to THEN
			UPDATE users SET balance = balance + v_back + v_fee
			    WHERE id = v_from AND balance <= p_cap - v_back - v_fee;
			SET v_cred = ROW_COUNT();
			UPDATE users SET balance = balance - v_back
			    WHERE id = v_to AND
			    balance - payd_user_reserved(v_to) >= v_back;
			SET v_deb = ROW_COUNT();
		ELSE
			UPDATE users SET balance = balance - v_back
			    WHERE id = v_to AND
			    balance - payd_user_reserved(v_to) >= v_back;
			SET v_deb = ROW_COUNT();
			UPDATE users SET balance = balance + v_back + v_fee
			    WHERE id = v_from AND balance <= p_cap - v_back - v_fee;
			SET v_cred = ROW_COUNT();
		END IF;
		SET v_outcome = IF(v_deb <> 1, 3, IF(v_cred <> 1, 4, 0));
	END IF;
	IF v_outcome <> 0 THEN
		ROLLBACK;
	ELSE
		SET v_bal_from = (SELECT balance FROM users WHERE id = v_from);
		SET v_bal_to = (SELECT balance FROM users WHERE id = v_to);
		SELECT account_id INTO v_acct FROM entries
		    WHERE movement_id = p_transfer AND account_kind = 'fee';
		UPDATE fee_accounts SET balance = balance - v_fee
		    WHERE id = v_acct;
		IF ROW_COUNT() <> 1 AND v_fee > 0 THEN
			SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT =
			    'payd_admin_reverse: the fee entry is missing';
		END IF;
		INSERT INTO movements (kind, from_user, to_user, amount, fee,
		    transfer_id, created_at)
		    VALUES ('reversal', v_to, v_from, v_back, v_fee, p_transfer,
		    p_at);
		SET v_mid = LAST_INSERT_ID();
		INSERT INTO entries (account_kind, account_id, movement_id, type,
		    delta, balance_after, counterparty_id, created_at)
		    VALUES ('user', v_to, v_mid, 'reversal_out', -v_back,
		    v_bal_to, v_from, payd_entry_at(v_to, p_at)),
		    ('user', v_from, v_mid, 'reversal_in', v_back + v_fee,
		    v_bal_from, v_to, payd_entry_at(v_from, p_at)),
		    ('fee', IFNULL(v_acct, 0), v_mid, 'fee_reversal', -v_fee,
		    NULL, NULL, p_at);
		UPDATE movements SET reversed_by = v_mid WHERE id = p_transfer;
	END IF;
	-- The record: with the reversal, or on its own after the rollback.
	INSERT INTO admin_actions (operator, action, target, reason, outcome,
	    created_at)
	    VALUES (p_operator, 'reverse', CONCAT('transfer ', p_transfer),
	    p_reason, ELT(v_outcome + 1, 'done', 'no_such_transfer',
	    'already_reversed', 'recipient_short', 'sender_limit'), p_at);
	COMMIT;
	SELECT v_outcome, v_mid, v_from, v_to, v_back, v_fee, LAST_INSERT_ID();
END;
