-- The debit of a payer, shared by every movement that takes money out of
-- a user's account at the user's request (payd_transfer_move, and so
-- POST /transfer, the transfers a worker batches and a capture's payer;
-- a refund's refunder; a batch payout's payer; and a hold's reservation,
-- payd_reserve, which gives the money back to balance and reserved): the
-- one place of two rules (API.md "Holds, refunds, batches and
-- statements"):
--
--   - a frozen account (users.frozen_at set by `payd admin freeze`) pays
--     nothing: p_state 9 (403 account_frozen), whatever its balance;
--   - nothing is taken past the available balance, balance - reserved by
--     pending holds (sql/004_holds.sql): p_state 4 (422
--     insufficient_funds), so a hold's money is never spent twice.
--
-- Both are checked in the debit's own UPDATE, under the row lock it takes,
-- so a freeze that has committed stops every debit that comes after it, on
-- every app instance; nothing is cached. In the caller's open
-- transaction; p_state 0: p_total was taken. On a refusal nothing changed;
-- the second read only says which rule refused (frozen wins).
CREATE OR REPLACE DEFINER = payd_owner PROCEDURE payd_debit(
    IN p_user BIGINT, IN p_total BIGINT, OUT p_state TINYINT)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'a payer''s debit: frozen, then funds (sql/R__payd_debit.sql)'
BEGIN
	UPDATE users SET balance = balance - p_total
	    WHERE id = p_user AND balance - reserved >= p_total AND
	    frozen_at IS NULL;
	IF ROW_COUNT() = 1 THEN
		SET p_state = 0;
	ELSEIF (SELECT frozen_at FROM users WHERE id = p_user) IS NOT NULL
	    THEN
		SET p_state = 9;
	ELSE
		SET p_state = 4;
	END IF;
END;
