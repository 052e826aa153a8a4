-- The fast path of payd_payout (sql/R__payd_payout.sql): all the items of
-- a batch at once, set by set instead of one by one, when every one of
-- them goes through; else nothing is kept (p_ok 0) and payd_payout runs
-- them one by one, which says which were refused and why. Called in
-- payd_payout's transaction after its row locks, behind a savepoint that
-- it rolls back to when p_ok is 0, only once payd_payout has found every
-- item's recipient, none of them the payer: p_total is the sum of the
-- amounts and fees, p_recips the number of distinct recipients.
--
-- The rules are those of every transfer, applied to the whole: the payer
-- pays the sum of the amounts and fees through payd_debit (frozen,
-- available funds: sql/R__payd_debit.sql), which succeeds for the sum
-- exactly when it succeeds for each item in turn; each recipient is
-- credited the sum of its amounts under the cap (a recipient under the
-- cap after all its items is under it after each). A few statements
-- whatever the number of items: the debit; one INSERT of the movements in
-- item order with consecutive ids (innodb_autoinc_lock_mode 1 takes the
-- table's AUTO-INC lock for a multi-row INSERT ... SELECT; checked, and
-- otherwise p_ok is 0), the one read of p_items and of the recipients'
-- names: from there on the movements are the items, read by primary key
-- range; one UPDATE of every recipient; one INSERT of their three entries
-- each, with the balances the items leave one after the other (running
-- sums in movement id order), the user entries at one time for the batch
-- (the time rule of sql/R__payd_entry_at.sql for all its accounts at
-- once, read with the check of the movements).
--
-- p_ok 1: done; item k (1 to n) is movement p_first + k - 1, and the
-- payer's balance after it is p_start minus the running sum of amounts
-- and fees up to k (payd_payout answers from these).
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_payout_set(
    IN p_from BIGINT, IN p_items LONGTEXT, IN p_total BIGINT,
    IN p_recips BIGINT, IN p_cap BIGINT, IN p_fee_account INT,
    IN p_at DATETIME,
    OUT p_ok TINYINT, OUT p_first BIGINT, OUT p_start BIGINT)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'POST /transfers/batch, set by set (R__payd_payout_set.sql)'
proc: BEGIN
	DECLARE v_deb TINYINT DEFAULT 0;
	DECLARE v_n, v_moved BIGINT DEFAULT 0;
	DECLARE v_at, v_last DATETIME DEFAULT NULL;

	SET p_ok = 0, p_first = 0;
	-- The payer, for the whole.
	SET p_start = (SELECT balance FROM users WHERE id = p_from);
	CALL payd_debit(p_from, p_total, v_deb);
	IF v_deb <> 0 THEN
		LEAVE proc;
	END IF;

	-- The movements, in item order, with consecutive ids.
	INSERT INTO movements (kind, from_user, to_user, amount, fee,
	    created_at)
	    SELECT 'transfer', p_from, COALESCE(u1.id, u2.id), j.amount,
		j.fee, p_at
	    FROM JSON_TABLE(p_items, '$[*]'
		COLUMNS (idx FOR ORDINALITY, to_id BIGINT PATH '$[0]',
		    to_name VARCHAR(32) CHARACTER SET utf8mb4
			COLLATE utf8mb4_general_ci PATH '$[1]',
		    amount BIGINT PATH '$[2]', fee BIGINT PATH '$[3]')) j
	    LEFT JOIN users u1 ON j.to_id > 0 AND u1.id = j.to_id
	    LEFT JOIN users u2 ON j.to_id = 0 AND u2.username = j.to_name
	    ORDER BY j.idx;
	SET v_n = ROW_COUNT(), p_first = LAST_INSERT_ID();
	-- Those ids are the batch's, and the latest entry time of its
	-- recipients: one step to the end of each one's range of
	-- entries_account_time (a repeated recipient's comes from the
	-- subquery's cache).
	SELECT COUNT(*), MAX((SELECT e.created_at FROM entries e
		WHERE e.account_kind = 'user' AND e.account_id = m.to_user
		ORDER BY e.created_at DESC LIMIT 1))
	    INTO v_moved, v_last
	    FROM movements m WHERE m.id >= p_first AND m.id < p_first + v_n
	    AND m.from_user = p_from AND m.created_at = p_at;
	IF v_moved <> v_n THEN
		LEAVE proc;
	END IF;

	-- Each recipient, for its whole, under the cap.
	UPDATE (SELECT m.to_user AS id, SUM(m.amount) AS s FROM movements m
	    WHERE m.id >= p_first AND m.id < p_first + v_n
	    GROUP BY m.to_user) x STRAIGHT_JOIN users u ON u.id = x.id
	SET u.balance = u.balance + x.s
	WHERE u.balance <= p_cap - x.s;
	IF ROW_COUNT() <> p_recips THEN
		LEAVE proc;
	END IF;

	-- The time of the batch's user entries: payd_entry_at's rule
	-- (sql/R__payd_entry_at.sql) for all its accounts at once. One time
	-- at or after every one's latest entry keeps each account's times in
	-- movement id order; as every such entry was written before this
	-- batch held the account's lock, it moves the entries forward by at
	-- most the time the batch waited for its locks.
	SET v_at = GREATEST(payd_entry_at(p_from, p_at),
	    COALESCE(v_last, p_at));

	-- Their entries, three an item (k): the payer's, the recipient's and
	-- the fee's, with the balances after each item: the payer's from its
	-- balance before the batch, a recipient's back from its balance after
	-- the batch (read here: this transaction's own rows).
	INSERT INTO entries (account_kind, account_id, movement_id, type,
	    delta, balance_after, counterparty_id, created_at)
	    SELECT IF(k.k = 2, 'fee', 'user'),
		CASE k.k WHEN 0 THEN p_from WHEN 1 THEN x.to_id
		    ELSE p_fee_account END,
		x.mid,
		CASE k.k WHEN 0 THEN 'transfer_out' WHEN 1 THEN 'transfer_in'
		    ELSE 'fee' END,
		CASE k.k WHEN 0 THEN -(x.amount + x.fee) WHEN 1 THEN x.amount
		    ELSE x.fee END,
		CASE k.k WHEN 0 THEN p_start - x.paid WHEN 1 THEN x.to_after
		    ELSE NULL END,
		CASE k.k WHEN 0 THEN x.to_id WHEN 1 THEN p_from ELSE NULL END,
		IF(k.k = 2, p_at, v_at)
	    FROM (SELECT m.id AS mid, m.to_user AS to_id, m.amount, m.fee,
		    SUM(m.amount + m.fee) OVER (ORDER BY m.id) AS paid,
		    u.balance - SUM(m.amount) OVER (PARTITION BY m.to_user)
			+ SUM(m.amount) OVER (PARTITION BY m.to_user
			    ORDER BY m.id) AS to_after
		FROM movements m JOIN users u ON u.id = m.to_user
		WHERE m.id >= p_first AND m.id < p_first + v_n) x
	    CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2) k;
	SET p_ok = 1;
END;
