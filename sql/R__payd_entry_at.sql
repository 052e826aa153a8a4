-- The time of a user account's new entry (docs/money.md, Time in the
-- ledger): p_at, the second the app took before the movement's CALL, or
-- the time of the account's latest entry when that one is later. Called
-- under the account's row lock, which every movement holds before it
-- writes an entry, so the account's entry times never go down in movement
-- id order: a movement that waited for the lock behind one that took a
-- later second moves its entry forward by at most the time it waited.
-- The movement keeps p_at.
--
-- The rule's one place for the routines that write an entry at a time
-- (payd_transfer_move, payd_deposit, payd_refund, payd_admin_reverse);
-- payd_payout_set applies it to a whole batch in one read
-- (sql/R__payd_payout_set.sql). It replaced a trigger on entries, which
-- cost every row of every movement, fee rows included
-- (sql/008_entries_time_in_routines.sql). MAX over the account's range of
-- entries_account_time is one step to its end.
CREATE OR REPLACE DEFINER = payd_owner FUNCTION payd_entry_at(
    p_user BIGINT, p_at DATETIME)
    RETURNS DATETIME
    READS SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'a user entry time, never before the last (R__payd_entry_at.sql)'
BEGIN
	RETURN GREATEST(p_at, COALESCE((SELECT MAX(e.created_at)
	    FROM entries e
	    WHERE e.account_kind = 'user' AND e.account_id = p_user), p_at));
END;
