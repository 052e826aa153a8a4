-- Issue 21: 256 fee sub-accounts instead of 16. Every transfer credits one
-- sub-account last, just before COMMIT; on a Galera cluster, writers on
-- different nodes that picked the same one fail certification (1213 at
-- COMMIT) and run again. With 16 rows they met often enough to be most of
-- the conflicts; 256 cut them about 4x (docs/cluster.md,
-- tests/bench/RESULTS.md).
--
-- The new rows take the next ids, 16 to 255, with balance 0: the fee
-- account's balance (the sum of the rows) and every row's match with its
-- entries are unchanged, so payd audit passes before and after. The ids
-- stay 0 to n - 1, which is how the procedures map the app's number onto
-- a row (payd_fee_account, sql/R__payd_fee_account.sql): this table is
-- the one place of the count. A row that exists already is left as it is.
INSERT INTO fee_accounts (id)
    WITH RECURSIVE n (id) AS (
	SELECT 16
	UNION ALL
	SELECT id + 1 FROM n WHERE id < 255
    )
    SELECT n.id FROM n
    WHERE NOT EXISTS (SELECT 1 FROM fee_accounts f WHERE f.id = n.id);
