-- POST /transfer as one stored procedure: the whole request, from the
-- caller's row to the commit, in one round trip instead of ten (the
-- caller's row, BEGIN, the key, two balance moves, the read-back, the
-- movement, its entries, the fee credit, COMMIT). On this service's
-- machines each round trip costs two context switches (make bench,
-- tests/bench/RESULTS.md); the statements and their order are those the
-- app ran itself before, so the locking is unchanged:
--
--   1. the caller, as auth_check() reads it for every other route (the
--      check of payd_caller_is, sql/R__payd_caller_is.sql, written out):
--      the token's user id must still exist under the token's name
--      (compared byte for byte); the recipient, by id or by username
--      (without regard to case, the column's collation: its id and name
--      in one read), and not the caller;
--   2. START TRANSACTION, then the Idempotency-Key's row when there is a
--      key (payd_claim_key, sql/R__payd_claim_key.sql): a concurrent
--      request with the same key waits on its lock;
--   3. the debit (only if balance >= amount + fee) and the credit (only if
--      balance <= the cap minus amount), in ascending user id order so
--      that A->B and B->A cannot deadlock; both always run, so
--      insufficient funds wins over the recipient's cap;
--   4. both balances read back under our locks, the movement, its three
--      entries, and last the fee sub-account, whose row is shared by all
--      transfers and so is locked the shortest;
--   5. COMMIT, unless there is a key: then the transaction stays open and
--      the app stores its answer under the key and commits (app/ledger.c),
--      so that the key and the movement are one atomic write.
--
-- Returns one row: state, to_id, to_name, movement_id, balance (the
-- caller's, after), to_balance. state (enum ledger_state, app/ledger.c):
--   0 done: moved (committed, or open with a key), 1 the caller is gone
--   (401), 2 a transfer to oneself (400), 3 no such recipient (404),
--   4 insufficient funds (422), 5 the recipient's cap (422), 6 the key is
--   taken (replay), 7 the key is held by a request still running (409).
-- Nothing is left open unless state is 0 and there is a key. A deadlock,
-- a lock-wait timeout or any other error rolls back and is raised to the
-- app (which retries 1213 and 1205, API.md Faults).
-- SQL SECURITY INVOKER: it runs with the app account's own DML grants.
--
-- A routine file (R__*.sql), not a numbered migration: payd migrate
-- applies it after the numbered ones, and again whenever this text
-- changes (schema_routines keeps the SHA-256 of the text last applied), so
-- the procedure is edited here, in place. CREATE OR REPLACE swaps it in one
-- statement: a CALL running meanwhile uses the old body or the new one,
-- never none. (Its first version was sql/002_transfer_procedure.sql;
-- databases that recorded 002 keep the record, and get this file.)
CREATE OR REPLACE PROCEDURE payd_transfer(
    IN p_from BIGINT, IN p_from_name VARCHAR(32),
    IN p_to BIGINT, IN p_to_name VARCHAR(32),
    IN p_amount BIGINT, IN p_fee BIGINT, IN p_room BIGINT,
    IN p_fee_account INT, IN p_at DATETIME,
    IN p_key VARBINARY(255), IN p_canon VARBINARY(96))
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
    COMMENT 'POST /transfer in one round trip (sql/R__payd_transfer.sql)'
proc: BEGIN
	DECLARE v_total BIGINT DEFAULT p_amount + p_fee;
	DECLARE v_state TINYINT DEFAULT 0;
	DECLARE v_name VARCHAR(32) DEFAULT NULL;
	DECLARE v_to BIGINT DEFAULT NULL;
	DECLARE v_to_name VARCHAR(32) DEFAULT NULL;
	DECLARE v_deb INT DEFAULT 0;
	DECLARE v_cred INT DEFAULT 0;
	DECLARE v_mid BIGINT DEFAULT 0;
	DECLARE v_bal BIGINT DEFAULT 0;
	DECLARE v_tobal BIGINT DEFAULT 0;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;

	-- 1. Who pays, and who is paid: reads outside the transaction; the
	-- moves below check the rows again under their locks. The caller
	-- check is payd_caller_is (sql/R__payd_caller_is.sql) written out:
	-- a stored function call costs about 3 % of a transfer
	-- (tests/bench/RESULTS.md), and this is the hot path.
	BEGIN
		-- No such row leaves the variable NULL, and no warning.
		DECLARE CONTINUE HANDLER FOR NOT FOUND BEGIN END;
		SELECT username INTO v_name FROM users WHERE id = p_from;
		IF p_to > 0 THEN
			SET v_to = p_to;
			SELECT username INTO v_to_name FROM users
			    WHERE id = p_to;
		ELSE
			SELECT id, username INTO v_to, v_to_name FROM users
			    WHERE username = p_to_name;
		END IF;
	END;
	IF v_name IS NULL OR
	    CAST(v_name AS BINARY) <> CAST(p_from_name AS BINARY) THEN
		SET v_state = 1;
	ELSEIF v_to_name IS NULL THEN
		SET v_state = 3;
	ELSEIF v_to = p_from THEN
		SET v_state = 2;
	END IF;
	IF v_state <> 0 THEN
		SELECT v_state, v_to, v_to_name, v_mid, v_bal, v_tobal;
		LEAVE proc;
	END IF;

	-- 2. The transaction, and the key first.
	START TRANSACTION;
	IF p_key IS NOT NULL THEN
		CALL payd_claim_key(p_from, p_key, p_canon, v_state);
		IF v_state <> 0 THEN
			ROLLBACK;
			SELECT v_state, v_to, v_to_name, v_mid, v_bal, v_tobal;
			LEAVE proc;
		END IF;
	END IF;

	-- 3. The two moves, in ascending id order.
	IF p_from < v_to THEN
		UPDATE users SET balance = balance - v_total
		    WHERE id = p_from AND balance >= v_total;
		SET v_deb = ROW_COUNT();
		UPDATE users SET balance = balance + p_amount
		    WHERE id = v_to AND balance <= p_room;
		SET v_cred = ROW_COUNT();
	ELSE
		UPDATE users SET balance = balance + p_amount
		    WHERE id = v_to AND balance <= p_room;
		SET v_cred = ROW_COUNT();
		UPDATE users SET balance = balance - v_total
		    WHERE id = p_from AND balance >= v_total;
		SET v_deb = ROW_COUNT();
	END IF;
	IF v_deb <> 1 OR v_cred <> 1 THEN
		ROLLBACK;
		SET v_state = IF(v_deb <> 1, 4, 5);
		SELECT v_state, v_to, v_to_name, v_mid, v_bal, v_tobal;
		LEAVE proc;
	END IF;

	-- 4. The ledger rows, and the fee sub-account last.
	SET v_bal = (SELECT balance FROM users WHERE id = p_from);
	SET v_tobal = (SELECT balance FROM users WHERE id = v_to);
	INSERT INTO movements (kind, from_user, to_user, amount, fee,
	    created_at)
	    VALUES ('transfer', p_from, v_to, p_amount, p_fee, p_at);
	SET v_mid = LAST_INSERT_ID();
	INSERT INTO entries (account_kind, account_id, movement_id, type,
	    delta, balance_after, counterparty_id, created_at)
	    VALUES ('user', p_from, v_mid, 'transfer_out', -v_total, v_bal,
	    v_to, p_at),
	    ('user', v_to, v_mid, 'transfer_in', p_amount, v_tobal, p_from,
	    p_at),
	    ('fee', p_fee_account, v_mid, 'fee', p_fee, NULL, NULL, p_at);
	UPDATE fee_accounts SET balance = balance + p_fee
	    WHERE id = p_fee_account;
	-- A zero fee changes no row, so only a real fee must hit one.
	IF p_fee > 0 AND ROW_COUNT() <> 1 THEN
		SIGNAL SQLSTATE '45000'
		    SET MESSAGE_TEXT = 'payd_transfer: no such fee account';
	END IF;

	-- 5. Commit, or leave it to the app to store the key's answer.
	IF p_key IS NULL THEN
		COMMIT;
	END IF;
	SELECT v_state, v_to, v_to_name, v_mid, v_bal, v_tobal;
END;
