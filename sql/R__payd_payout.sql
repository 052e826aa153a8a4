-- POST /transfers/batch as one stored procedure: up to 1000 transfers
-- from the caller, in one transaction and one round trip
-- (app/ledger_batch.c). The items come as one JSON document, p_items =
-- [[to_id, "to", amount, fee], ...]: the recipient by id (to_id > 0) or
-- by username (to_id 0), the amount and its fee in minor units, each
-- checked by the app (1 to 1000 items, no transfer to oneself).
--
--   1. the caller, as every route checks it (payd_caller_is, with the
--      token's generation);
--   2. START TRANSACTION, then the Idempotency-Key's row when there is a
--      key (payd_txn_begin): a concurrent request with the same key waits;
--   3. every item's recipient found, by id or by name, in one read of
--      the items (without locks), which also sums them; then the caller's
--      row and every recipient's locked in one locking read of the primary
--      key over the sorted list of their ids: a range read takes its rows
--      in ascending id order, the order of payd_transfer_move and
--      payd_transfer_many, so batches, single transfers and the workers'
--      transfer batches never wait on each other in a cycle. The list is
--      built here from users.id values (integers), hence the one dynamic
--      statement. If the locks took more than p_lock_ms, the batch rolls
--      back as a lock-wait timeout (1205): the app runs it again, whole;
--   4. all the items at once when every recipient was found and none is
--      the caller (payd_payout_set, sql/R__payd_payout_set.sql: the same
--      rules, set by set, a few statements whatever the number of items),
--      answered from its movements (consecutive ids); else, or
--      when that finds an item refused, from a savepoint before it, each
--      item in order through payd_transfer_move
--      (sql/R__payd_transfer_move.sql), the step every transfer takes:
--      the same balance check, the same recipient's cap, the same ledger
--      rows. Each item sees the balances the items before it left; a
--      refused item (3 no such recipient, 2 the caller, 4 insufficient
--      funds, 5 the recipient's cap) changes nothing, and the next goes on.
--      An item refused as 9 (a frozen payer: payd_debit, the rule's one
--      place) stops the batch: ROLLBACK, state 9, nothing moved (403);
--   5. p_atomic and an item refused: ROLLBACK, state 10 (nothing moved).
--      Else the fee sub-account (payd_fee_account, picked from the app's
--      p_fee_account) gets the sum of the fees, last (payd_fee_credit),
--      and the caller's balance is read back; past p_commit_ms since the
--      CALL began it rolls back as a lock-wait timeout (the app's read timeout
--      comes next: nothing commits after the app gave up); then COMMIT,
--      unless there is a key: the app stores its answer under the key and
--      commits (app/ledger_batch.c).
--
-- Rows (state, idx, item_state, to_id, to_name, movement_id, balance,
-- to_balance): first idx 0, whose balance is the caller's after the batch
-- (0 unless state is 0), then one per item, idx 1 to n in order, with
-- the caller's balance after that item. state: 0 done (committed, or open
-- with a key), 1 the caller is gone (401), 6 the key is taken (replay),
-- 7 the key's request still runs (409), 9 the payer is frozen (403), 10
-- refused whole (atomic); only the row idx 0 comes for 1, 6, 7 and 9. Rows come only after the COMMIT
-- or the ROLLBACK. Any error rolls back and is raised.
-- SQL SECURITY DEFINER, owned by payd_owner (deploy/grants.sql): the app
-- has EXECUTE on it, and no write on the tables it changes.
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_payout(
    IN p_from BIGINT, IN p_from_name VARCHAR(32), IN p_from_gen BIGINT,
    IN p_items LONGTEXT,
    IN p_atomic TINYINT, IN p_cap BIGINT, IN p_fee_account INT,
    IN p_at DATETIME, IN p_key VARBINARY(255), IN p_canon MEDIUMBLOB,
    IN p_lock_ms INT, IN p_commit_ms INT)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'POST /transfers/batch in one round trip (R__payd_payout.sql)'
proc: BEGIN
	DECLARE v_bstate TINYINT DEFAULT 0;
	DECLARE v_state TINYINT DEFAULT 0;
	DECLARE v_mid, v_bal, v_tobal, v_fees, v_n BIGINT DEFAULT 0;
	DECLARE v_found, v_self, v_recips, v_total, v_sumfee, v_first,
	    v_start BIGINT DEFAULT 0;
	DECLARE v_ids LONGTEXT DEFAULT NULL;
	DECLARE v_refused INT DEFAULT 0;
	DECLARE v_frozen TINYINT DEFAULT 0;
	DECLARE v_all TINYINT DEFAULT 0;
	DECLARE v_out LONGTEXT DEFAULT '';
	-- SYSDATE, not NOW: the clock, not the CALL's start.
	DECLARE v_t0 DATETIME(6) DEFAULT SYSDATE(6);
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;

	-- 1. Who pays.
	IF NOT payd_caller_is(p_from, p_from_name, p_from_gen) THEN
		SELECT 1, 0, 0, 0, NULL, 0, 0, 0;
		LEAVE proc;
	END IF;

	-- 2. The transaction, and the key first.
	SET p_fee_account = payd_fee_account(p_fee_account);
	CALL payd_txn_begin(p_from, p_key, p_canon, v_bstate);
	IF v_bstate <> 0 THEN
		SELECT v_bstate, 0, 0, 0, NULL, 0, 0, 0;
		LEAVE proc;
	END IF;

	-- 3. Every user of the batch: the recipients found (a read), then
	-- locked with the caller in one read, in ascending id order.
	SELECT COUNT(*), COUNT(COALESCE(u1.id, u2.id)),
	    COALESCE(SUM(COALESCE(u1.id, u2.id) = p_from), 0),
	    COUNT(DISTINCT COALESCE(u1.id, u2.id)),
	    COALESCE(SUM(j.amount + j.fee), 0), COALESCE(SUM(j.fee), 0),
	    GROUP_CONCAT(DISTINCT COALESCE(u1.id, u2.id)
		ORDER BY COALESCE(u1.id, u2.id))
	    INTO v_n, v_found, v_self, v_recips, v_total, v_sumfee, v_ids
	FROM JSON_TABLE(p_items, '$[*]'
	    COLUMNS (to_id BIGINT PATH '$[0]',
		to_name VARCHAR(32) CHARACTER SET utf8mb4
		    COLLATE utf8mb4_general_ci PATH '$[1]',
		amount BIGINT PATH '$[2]', fee BIGINT PATH '$[3]')) j
	LEFT JOIN users u1 ON j.to_id > 0 AND u1.id = j.to_id
	LEFT JOIN users u2 ON j.to_id = 0 AND u2.username = j.to_name;
	EXECUTE IMMEDIATE CONCAT('SELECT COUNT(*) INTO @payd_payout_locked ',
	    'FROM users FORCE INDEX (PRIMARY) WHERE id IN (', p_from,
	    IF(v_ids IS NULL, '', CONCAT(',', v_ids)), ') FOR UPDATE');
	-- Every row is there (none is ever deleted), and so the whole list
	-- (GROUP_CONCAT's length limit did not cut it).
	IF @payd_payout_locked <> v_recips + IF(v_self > 0, 0, 1) THEN
		SIGNAL SQLSTATE '45000'
		    SET MESSAGE_TEXT = 'payd_payout: rows missing from the locks';
	END IF;
	IF TIMESTAMPDIFF(MICROSECOND, v_t0, SYSDATE(6)) > p_lock_ms * 1000 THEN
		SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = 1205,
		    MESSAGE_TEXT = 'payd_payout: row locks took too long';
	END IF;

	-- 4. The items: all at once when every one goes through
	-- (sql/R__payd_payout_set.sql), else one by one, in order.
	IF v_found = v_n AND v_self = 0 THEN
		SAVEPOINT payd_payout_set;
		CALL payd_payout_set(p_from, p_items, v_total, v_recips, p_cap,
		    p_fee_account, p_at, v_all, v_first, v_start);
		IF v_all = 0 THEN
			ROLLBACK TO SAVEPOINT payd_payout_set;
		ELSE
			SET v_fees = v_sumfee;
		END IF;
	END IF;
	FOR r IN (SELECT j.idx, COALESCE(u1.id, u2.id) AS to_id, j.amount,
		j.fee
	    FROM JSON_TABLE(p_items, '$[*]'
		COLUMNS (idx FOR ORDINALITY, to_id BIGINT PATH '$[0]',
		    to_name VARCHAR(32) CHARACTER SET utf8mb4
			COLLATE utf8mb4_general_ci PATH '$[1]',
		    amount BIGINT PATH '$[2]', fee BIGINT PATH '$[3]')) j
	    LEFT JOIN users u1 ON j.to_id > 0 AND u1.id = j.to_id
	    LEFT JOIN users u2 ON j.to_id = 0 AND u2.username = j.to_name
	    WHERE v_all = 0
	    ORDER BY j.idx) DO
		SET v_state = IF(r.to_id IS NULL, 3, IF(r.to_id = p_from, 2, 0));
		CALL payd_transfer_move(p_from, r.to_id, r.amount, r.fee,
		    p_cap - r.amount, p_fee_account, p_at, v_state, v_mid,
		    v_bal, v_tobal, v_fees);
		IF v_state = 9 THEN
			SET v_frozen = 1;
		END IF;
		IF v_state <> 0 THEN
			SET v_refused = v_refused + 1;
		END IF;
		SET v_out = CONCAT(v_out, IF(r.idx = 1, '[', ',['), r.idx, ',',
		    v_state, ',', COALESCE(r.to_id, 0), ',', v_mid, ',', v_bal,
		    ',', v_tobal, ']');
	END FOR;

	-- 5. All or nothing, or each on its own; nothing from a frozen payer.
	SET v_bal = 0;
	IF v_frozen <> 0 THEN
		ROLLBACK;
		SELECT 9, 0, 0, 0, NULL, 0, 0, 0;
		LEAVE proc;
	ELSEIF p_atomic <> 0 AND v_refused > 0 THEN
		ROLLBACK;
		SET v_bstate = 10;
	ELSE
		CALL payd_fee_credit(p_fee_account, v_fees);
		SET v_bal = (SELECT balance FROM users WHERE id = p_from);
		IF TIMESTAMPDIFF(MICROSECOND, v_t0, SYSDATE(6)) >
		    p_commit_ms * 1000 THEN
			SIGNAL SQLSTATE 'HY000' SET MYSQL_ERRNO = 1205,
			    MESSAGE_TEXT = 'payd_payout: too late to commit';
		END IF;
		IF p_key IS NULL THEN
			COMMIT;
		END IF;
	END IF;
	IF v_all <> 0 THEN
		-- Every item moved: item k is movement v_first + k - 1.
		SELECT v_bstate, 0, 0, 0, NULL, 0, v_bal, 0
		UNION ALL
		SELECT v_bstate, m.id - v_first + 1, 0, m.to_user, u.username,
		    m.id, v_start - SUM(m.amount + m.fee) OVER (ORDER BY m.id), 0
		FROM movements m JOIN users u ON u.id = m.to_user
		WHERE m.id >= v_first AND m.id < v_first + v_n
		ORDER BY 2;
		LEAVE proc;
	END IF;
	SELECT v_bstate, 0, 0, 0, NULL, 0, v_bal, 0
	UNION ALL
	SELECT v_bstate, j.idx, j.state, j.to_id, u.username, j.mid, j.bal,
	    j.tobal
	FROM JSON_TABLE(CONCAT('[', v_out, ']'), '$[*]'
	    COLUMNS (idx INT PATH '$[0]', state INT PATH '$[1]',
		to_id BIGINT PATH '$[2]', mid BIGINT PATH '$[3]',
		bal BIGINT PATH '$[4]', tobal BIGINT PATH '$[5]')) j
	LEFT JOIN users u ON u.id = j.to_id
	ORDER BY 2;
END;
