-- Benchmark accounts: bench_1 .. bench_N with the password hash @hash
-- (when NULL, the one of bench_proto, registered through the API: either
-- way each one logs in with the same password) and a starting balance, each funded by a proper deposit
-- (a movement and its two entries) so that `payd audit` holds from the
-- start; then the merchant "bench_merchant", empty, the hot recipient.
-- The caller sets @n, @start_minor and @hash. Run as root on a fresh
-- schema.
INSERT INTO users (username, password_hash, balance)
SELECT CONCAT('bench_', seq), COALESCE(@hash,
    (SELECT password_hash FROM users WHERE username = 'bench_proto')),
    @start_minor
FROM seq_1_to_100000 WHERE seq <= @n ORDER BY seq;

INSERT INTO movements (kind, to_user, amount)
SELECT 'deposit', id, balance FROM users
WHERE username LIKE 'bench\_%' AND balance > 0 ORDER BY id;

INSERT INTO entries (account_kind, account_id, movement_id, type, delta,
    balance_after)
SELECT 'user', m.to_user, m.id, 'deposit', m.amount, m.amount
FROM movements m JOIN users u ON u.id = m.to_user
WHERE m.kind = 'deposit' AND u.username LIKE 'bench\_%';

INSERT INTO entries (account_kind, account_id, movement_id, type, delta)
SELECT 'external', 0, m.id, 'funding', -m.amount
FROM movements m JOIN users u ON u.id = m.to_user
WHERE m.kind = 'deposit' AND u.username LIKE 'bench\_%';

INSERT INTO users (username, password_hash, balance)
SELECT 'bench_merchant', password_hash, 0 FROM users
WHERE username = 'bench_proto';
