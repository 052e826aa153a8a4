-- An experiment of make bench, not the app's SQL: the transfer
-- transaction of ledger_transfer() (no Idempotency-Key) as one stored
-- procedure, so that bench-dblimit -P can measure what one round trip per
-- transfer would give against the app's nine. Same statements, same order
-- (ascending id locks, fee sub-account last), its own transaction.
-- Returns one row: debited, credited, movement id, recipient's name,
-- sender's balance, recipient's balance; nothing moved unless both are 1.
DROP PROCEDURE IF EXISTS bench_transfer;
DELIMITER //
CREATE PROCEDURE bench_transfer(IN p_from BIGINT, IN p_to BIGINT,
    IN p_amount BIGINT, IN p_fee BIGINT, IN p_room BIGINT,
    IN p_fee_account INT, IN p_at DATETIME)
BEGIN
	DECLARE v_total BIGINT DEFAULT p_amount + p_fee;
	DECLARE v_deb INT DEFAULT 0;
	DECLARE v_cred INT DEFAULT 0;
	DECLARE v_mid BIGINT DEFAULT 0;
	DECLARE v_bal BIGINT DEFAULT 0;
	DECLARE v_tobal BIGINT DEFAULT 0;
	DECLARE v_name VARCHAR(32) DEFAULT NULL;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;
	START TRANSACTION;
	IF p_from < p_to THEN
		UPDATE users SET balance = balance - v_total
		    WHERE id = p_from AND balance >= v_total;
		SET v_deb = ROW_COUNT();
		UPDATE users SET balance = balance + p_amount
		    WHERE id = p_to AND balance <= p_room;
		SET v_cred = ROW_COUNT();
	ELSE
		UPDATE users SET balance = balance + p_amount
		    WHERE id = p_to AND balance <= p_room;
		SET v_cred = ROW_COUNT();
		UPDATE users SET balance = balance - v_total
		    WHERE id = p_from AND balance >= v_total;
		SET v_deb = ROW_COUNT();
	END IF;
	IF v_deb = 1 AND v_cred = 1 THEN
		SELECT balance INTO v_bal FROM users WHERE id = p_from;
		SELECT username, balance INTO v_name, v_tobal FROM users
		    WHERE id = p_to;
		INSERT INTO movements (kind, from_user, to_user, amount, fee,
		    created_at) VALUES ('transfer', p_from, p_to, p_amount,
		    p_fee, p_at);
		SET v_mid = LAST_INSERT_ID();
		INSERT INTO entries (account_kind, account_id, movement_id,
		    type, delta, balance_after, counterparty_id, created_at)
		    VALUES ('user', p_from, v_mid, 'transfer_out', -v_total,
		    v_bal, p_to, p_at),
		    ('user', p_to, v_mid, 'transfer_in', p_amount, v_tobal,
		    p_from, p_at),
		    ('fee', p_fee_account, v_mid, 'fee', p_fee, NULL, NULL,
		    p_at);
		UPDATE fee_accounts SET balance = balance + p_fee
		    WHERE id = p_fee_account;
		COMMIT;
	ELSE
		ROLLBACK;
	END IF;
	SELECT v_deb, v_cred, v_mid, v_name, v_bal, v_tobal;
END //
DELIMITER ;
GRANT EXECUTE ON PROCEDURE payd.bench_transfer TO 'payd'@'localhost';
