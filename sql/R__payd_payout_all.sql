-- Replaced by payd_payout_set (sql/R__payd_payout_set.sql), which
-- payd_payout now calls; kept for the version that may still run during
-- an upgrade, until a later numbered migration drops it
-- (docs/operations.md, Upgrades).
--
-- The old fast path of payd_payout (sql/R__payd_payout.sql): all the items of
-- a batch at once, set by set instead of one by one, when every one of
-- them goes through; else nothing is kept and payd_payout runs them one
-- by one, which says which were refused and why. Called in payd_payout's
-- transaction after its row locks, behind a savepoint that it rolls back
-- to when p_ok is 0.
--
-- The rules are those of every transfer, applied to the whole: the payer
-- pays the sum of the amounts and fees through payd_debit (frozen,
-- funds: sql/R__payd_debit.sql), which succeeds for the sum exactly when
-- it succeeds for each item in turn; each recipient is credited the sum
-- of its amounts under the cap (a recipient under the cap after all its
-- items is under it after each); no item to an unknown user or to the
-- payer. The movements go in as one INSERT in item order, their ids
-- consecutive (innodb_autoinc_lock_mode 1 takes the table's AUTO-INC lock
-- for a multi-row INSERT ... SELECT; checked, and otherwise p_ok is 0),
-- then their three entries each, with the balances the items leave one
-- after the other (running sums in item order).
--
-- p_ok 1: done, p_fees the fees to credit, p_out the items' results as
-- payd_payout writes them ([idx, 0, to_id, movement_id, balance, 0], ...).
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_payout_all(
    IN p_from BIGINT, IN p_items LONGTEXT, IN p_cap BIGINT,
    IN p_fee_account INT, IN p_at DATETIME,
    OUT p_ok TINYINT, OUT p_fees BIGINT, OUT p_out LONGTEXT)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'POST /transfers/batch, all at once (R__payd_payout_all.sql)'
proc: BEGIN
	DECLARE v_n, v_found, v_self, v_recips, v_total, v_start, v_first
	    BIGINT DEFAULT 0;
	DECLARE v_deb TINYINT DEFAULT 0;

	SET p_ok = 0, p_fees = 0, p_out = '';
	SELECT COUNT(*), COUNT(COALESCE(u1.id, u2.id)),
	    COALESCE(SUM(COALESCE(u1.id, u2.id) = p_from), 0),
	    COUNT(DISTINCT COALESCE(u1.id, u2.id)),
	    COALESCE(SUM(j.amount + j.fee), 0), COALESCE(SUM(j.fee), 0)
	    INTO v_n, v_found, v_self, v_recips, v_total, p_fees
	FROM JSON_TABLE(p_items, '$[*]'
	    COLUMNS (to_id BIGINT PATH '$[0]',
		to_name VARCHAR(32) CHARACTER SET utf8mb4
		    COLLATE utf8mb4_general_ci PATH '$[1]',
		amount BIGINT PATH '$[2]', fee BIGINT PATH '$[3]')) j
	LEFT JOIN users u1 ON j.to_id > 0 AND u1.id = j.to_id
	LEFT JOIN users u2 ON j.to_id = 0 AND u2.username = j.to_name;
	IF v_n = 0 OR v_found <> v_n OR v_self <> 0 THEN
		LEAVE proc;
	END IF;

	-- The payer, for the whole; then each recipient, for its whole.
	SET v_start = (SELECT balance FROM users WHERE id = p_from);
	CALL payd_debit(p_from, v_total, v_deb);
	IF v_deb <> 0 THEN
		LEAVE proc;
	END IF;
	UPDATE users u JOIN (
	    SELECT COALESCE(u1.id, u2.id) AS id, SUM(j.amount) AS s
	    FROM JSON_TABLE(p_items, '$[*]'
		COLUMNS (to_id BIGINT PATH '$[0]',
		    to_name VARCHAR(32) CHARACTER SET utf8mb4
			COLLATE utf8mb4_general_ci PATH '$[1]',
		    amount BIGINT PATH '$[2]')) j
	    LEFT JOIN users u1 ON j.to_id > 0 AND u1.id = j.to_id
	    LEFT JOIN users u2 ON j.to_id = 0 AND u2.username = j.to_name
	    GROUP BY 1) x ON u.id = x.id
	SET u.balance = u.balance + x.s
	WHERE u.balance <= p_cap - x.s;
	IF ROW_COUNT() <> v_recips THEN
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
	SET v_first = LAST_INSERT_ID();
	IF (SELECT COUNT(*) FROM movements WHERE id >= v_first
	    AND id < v_first + v_n AND from_user = p_from
	    AND created_at = p_at) <> v_n THEN
		LEAVE proc;
	END IF;

	-- Their entries: the payer's, the recipient's and the fee's, with
	-- the balances after each item (running sums in item order; a
	-- recipient's from its balance before the batch).
	INSERT INTO entries (account_kind, account_id, movement_id, type,
	    delta, balance_after, counterparty_id, created_at)
	    WITH x AS (
		SELECT j.idx, COALESCE(u1.id, u2.id) AS to_id, j.amount, j.fee,
		    SUM(j.amount + j.fee) OVER (ORDER BY j.idx) AS paid,
		    SUM(j.amount) OVER (PARTITION BY COALESCE(u1.id, u2.id))
			AS to_total,
		    SUM(j.amount) OVER (PARTITION BY COALESCE(u1.id, u2.id)
			ORDER BY j.idx) AS got
		FROM JSON_TABLE(p_items, '$[*]'
		    COLUMNS (idx FOR ORDINALITY, to_id BIGINT PATH '$[0]',
			to_name VARCHAR(32) CHARACTER SET utf8mb4
			    COLLATE utf8mb4_general_ci PATH '$[1]',
			amount BIGINT PATH '$[2]', fee BIGINT PATH '$[3]')) j
		LEFT JOIN users u1 ON j.to_id > 0 AND u1.id = j.to_id
		LEFT JOIN users u2 ON j.to_id = 0 AND u2.username = j.to_name)
	    SELECT kind, account, mid, type, delta, after, other, p_at
	    FROM (
		SELECT 'user' AS kind, p_from AS account,
		    v_first + x.idx - 1 AS mid, 'transfer_out' AS type,
		    -(x.amount + x.fee) AS delta,
		    v_start - x.paid AS after, x.to_id AS other, 0 AS k
		FROM x
		UNION ALL
		SELECT 'user', x.to_id, v_first + x.idx - 1, 'transfer_in',
		    x.amount, u.balance - x.to_total + x.got, p_from, 1
		FROM x JOIN users u ON u.id = x.to_id
		UNION ALL
		SELECT 'fee', p_fee_account, v_first + x.idx - 1, 'fee',
		    x.fee, NULL, NULL, 2
		FROM x) e
	    ORDER BY mid, k;

	-- The items' results, as payd_payout reads them.
	WITH x AS (
		SELECT j.idx, COALESCE(u1.id, u2.id) AS to_id, j.amount, j.fee,
		    SUM(j.amount + j.fee) OVER (ORDER BY j.idx) AS paid,
		    SUM(j.amount) OVER (PARTITION BY COALESCE(u1.id, u2.id))
			AS to_total,
		    SUM(j.amount) OVER (PARTITION BY COALESCE(u1.id, u2.id)
			ORDER BY j.idx) AS got
		FROM JSON_TABLE(p_items, '$[*]'
		    COLUMNS (idx FOR ORDINALITY, to_id BIGINT PATH '$[0]',
			to_name VARCHAR(32) CHARACTER SET utf8mb4
			    COLLATE utf8mb4_general_ci PATH '$[1]',
			amount BIGINT PATH '$[2]', fee BIGINT PATH '$[3]')) j
		LEFT JOIN users u1 ON j.to_id > 0 AND u1.id = j.to_id
		LEFT JOIN users u2 ON j.to_id = 0 AND u2.username = j.to_name)
	SELECT GROUP_CONCAT(CONCAT('[', x.idx, ',0,', x.to_id, ',',
	    v_first + x.idx - 1, ',', v_start - x.paid, ',0]')
	    ORDER BY x.idx SEPARATOR ',') INTO p_out
	FROM x;
	SET p_ok = 1;
END;
