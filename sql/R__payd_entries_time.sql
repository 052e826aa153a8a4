-- An account's entries carry non-decreasing times in movement id order
-- (docs/money.md, Time). The app takes a movement's time before its CALL
-- waits for row locks, so a movement that waited can commit after one that
-- took a later second: its user entry then gets the time of the account's
-- entry before it (the latest, under the account's row lock, which every
-- movement holds before it writes an entry). The movement keeps its own
-- time; only the entry, which statements and balances at a point in time
-- read, moves forward, by at most the time the movement waited.
--
-- One index dive per user entry. It runs as
-- payd_owner (deploy/grants.sql), like every routine. A routine file: payd
-- migrate applies it again whenever this text changes.
CREATE OR REPLACE DEFINER = payd_owner TRIGGER payd_entries_time
    BEFORE INSERT ON entries FOR EACH ROW
BEGIN
	DECLARE v_last DATETIME DEFAULT NULL;

	-- The account's latest time is its largest: one dive into the end of
	-- its range of entries_account_time, no sort (ORDER BY movement_id
	-- DESC LIMIT 1 read that index and sorted it: a filesort per row,
	-- which made a batch's thousands of entries ten times slower).
	IF NEW.account_kind = 'user' THEN
		SET v_last = (SELECT MAX(e.created_at) FROM entries e
		    WHERE e.account_kind = 'user'
		    AND e.account_id = NEW.account_id);
		IF v_last IS NOT NULL AND v_last > NEW.created_at THEN
			SET NEW.created_at = v_last;
		END IF;
	END IF;
END;
