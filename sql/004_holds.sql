-- Holds (authorize, capture, void, expire) and refunds (docs/money.md).
--
-- users.reserved is the sum of amount + fee of the user's pending holds as
-- payer; available = balance - reserved. Every debit checks it in the
-- statement that debits, and the CHECK below is the last guard.
ALTER TABLE users
    ADD COLUMN reserved BIGINT NOT NULL DEFAULT 0 AFTER balance,
    ADD CONSTRAINT users_reserved_range
        CHECK (reserved >= 0 AND reserved <= balance);

-- A refund is a movement of its own ('refund': the recipient of a transfer
-- pays part of it back, no fee); 'reversal' is the operator's (README).
-- transfer_id: the transfer a refund (or reversal) gives back; hold_id:
-- the hold a transfer captured; refunded: what the refunds of a transfer
-- add up to, never above its amount. The reversals of sql/003_accounts.sql
-- add transfer_id and its key too, and their own enum values: whichever of
-- the two a database got first, this one keeps both.
ALTER TABLE movements
    MODIFY kind ENUM('deposit', 'transfer', 'reversal', 'refund') NOT NULL,
    ADD COLUMN IF NOT EXISTS transfer_id BIGINT NULL,
    ADD COLUMN hold_id BIGINT NULL,
    ADD COLUMN refunded BIGINT NOT NULL DEFAULT 0,
    ADD KEY IF NOT EXISTS movements_transfer (transfer_id),
    ADD CONSTRAINT movements_refunded_range
        CHECK (refunded >= 0 AND refunded <= amount);

ALTER TABLE entries
    MODIFY type ENUM('deposit', 'transfer_out', 'transfer_in', 'fee',
        'funding', 'reversal_out', 'reversal_in', 'fee_reversal',
        'refund_out', 'refund_in') NOT NULL;

-- One row per hold. amount + fee is reserved from the payer while it is
-- pending; captured is what its capture moved (0 until then). A pending
-- hold at or past expires_at reads as expired, and the sweeper
-- (payd_hold_sweep) marks it so and releases its reservation.
CREATE TABLE holds (
	id BIGINT NOT NULL AUTO_INCREMENT,
	from_user BIGINT NOT NULL,
	to_user BIGINT NOT NULL,
	amount BIGINT NOT NULL,
	fee BIGINT NOT NULL,
	status ENUM('pending', 'captured', 'voided', 'expired') NOT NULL
	    DEFAULT 'pending',
	captured BIGINT NOT NULL DEFAULT 0,
	transfer_id BIGINT NULL,
	expires_at DATETIME NOT NULL,
	created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
	    ON UPDATE CURRENT_TIMESTAMP,
	PRIMARY KEY (id),
	KEY holds_from (from_user, id),
	KEY holds_to (to_user, id),
	KEY holds_due (status, expires_at),
	CONSTRAINT holds_amount_pos CHECK (amount > 0),
	CONSTRAINT holds_fee_nonneg CHECK (fee >= 0),
	CONSTRAINT holds_captured_range
	    CHECK (captured >= 0 AND captured <= amount)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Leases: a periodic job that one app instance at a time runs (the hold
-- sweeper) is claimed by a conditional UPDATE of its row (GET_LOCK is
-- not shared by the nodes of a Galera cluster).
CREATE TABLE leases (
	name VARCHAR(32) CHARACTER SET ascii NOT NULL,
	holder VARCHAR(96) CHARACTER SET ascii NOT NULL DEFAULT '',
	until DATETIME(6) NOT NULL DEFAULT '1970-01-01 00:00:01',
	PRIMARY KEY (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

INSERT INTO leases (name) VALUES ('hold_sweeper');
