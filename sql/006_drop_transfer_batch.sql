-- Issue 17: the procedure payd_transfer_batch, whose 8 slots were written
-- out by hand, was replaced by payd_transfer_many
-- (sql/R__payd_transfer_many.sql) and kept one release for the version
-- still running during that upgrade (docs/operations.md, Upgrades). No
-- running version calls it any more: it goes, with the record of its
-- routine file, so that schema_routines lists only the files there are.
-- On a database created after it was replaced there is nothing to drop.
DROP PROCEDURE IF EXISTS payd_transfer_batch;
DELETE FROM schema_routines WHERE name = 'R__payd_transfer_batch.sql';
