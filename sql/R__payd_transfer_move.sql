-- Step 2 of a transfer, shared by payd_transfer and payd_transfer_many
-- (sql/R__payd_transfer.sql, sql/R__payd_transfer_many.sql): in the
-- caller's open transaction, the two balance moves and the ledger rows of
-- one transfer whose payer and payee step 1 found (p_state 0; any other
-- state is left as it is, and nothing is done).
--
--   1. the debit (payd_debit, sql/R__payd_debit.sql: only from an account
--      that is not frozen, and only if its available, balance - reserved
--      by pending holds, is >= amount + fee) and the
--      credit (only if balance <= the cap minus amount), in ascending user
--      id order so that A->B and B->A cannot deadlock; both always run, so
--      the payer's refusal wins over the recipient's cap. When either
--      finds its condition false, the other is undone in the same
--      transaction and p_state says why: 9 the payer is frozen (403),
--      4 insufficient funds, 5 the recipient's cap (422). Nothing else is
--      written then.
--   2. both balances read back under our locks, the movement and its three
--      entries (the fee's on p_fee_account; the user entries at
--      payd_entry_at's time, sql/R__payd_entry_at.sql); p_fees grows by
--      the fee. The caller credits the fee sub-account with p_fees last,
--      just before COMMIT: its row is shared by all transfers, so it is
--      locked the shortest.
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_transfer_move(
    IN p_from BIGINT, IN p_to BIGINT,
    IN p_amount BIGINT, IN p_fee BIGINT, IN p_room BIGINT,
    IN p_fee_account INT, IN p_at DATETIME,
    INOUT p_state TINYINT, OUT p_mid BIGINT, OUT p_bal BIGINT,
    OUT p_tobal BIGINT, INOUT p_fees BIGINT)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'POST /transfer, step 2 (sql/R__payd_transfer_move.sql)'
proc: BEGIN
	DECLARE v_total BIGINT DEFAULT p_amount + p_fee;
	DECLARE v_deb TINYINT DEFAULT 0;
	DECLARE v_cred INT DEFAULT 0;

	SET p_mid = 0, p_bal = 0, p_tobal = 0;
	IF p_state <> 0 THEN
		LEAVE proc;
	END IF;
	-- v_deb: payd_debit's state, 0 when it took the money.
	IF p_from < p_to THEN
		CALL payd_debit(p_from, v_total, v_deb);
		UPDATE users SET balance = balance + p_amount
		    WHERE id = p_to AND balance <= p_room;
		SET v_cred = ROW_COUNT();
	ELSE
		UPDATE users SET balance = balance + p_amount
		    WHERE id = p_to AND balance <= p_room;
		SET v_cred = ROW_COUNT();
		CALL payd_debit(p_from, v_total, v_deb);
	END IF;
	IF v_deb <> 0 OR v_cred <> 1 THEN
		-- The rows are ours (locked) until the transaction ends.
		IF v_deb = 0 THEN
			UPDATE users SET balance = balance + v_total
			    WHERE id = p_from;
		END IF;
		IF v_cred = 1 THEN
			UPDATE users SET balance = balance - p_amount
			    WHERE id = p_to;
		END IF;
		SET p_state = IF(v_deb <> 0, v_deb, 5);
		LEAVE proc;
	END IF;

	SET p_bal = (SELECT balance FROM users WHERE id = p_from);
	SET p_tobal = (SELECT balance FROM users WHERE id = p_to);
	INSERT INTO movements (kind, from_user, to_user, amount, fee,
	    created_at)
	    VALUES ('transfer', p_from, p_to, p_amount, p_fee, p_at);
	SET p_mid = LAST_INSERT_ID();
	INSERT INTO entries (account_kind, account_id, movement_id, type,
	    delta, balance_after, counterparty_id, created_at)
	    VALUES ('user', p_from, p_mid, 'transfer_out', -v_total, p_bal,
	    p_to, payd_entry_at(p_from, p_at)),
	    ('user', p_to, p_mid, 'transfer_in', p_amount, p_tobal, p_from,
	    payd_entry_at(p_to, p_at)),
	    ('fee', p_fee_account, p_mid, 'fee', p_fee, NULL, NULL, p_at);
	SET p_fees = p_fees + p_fee;
END;
