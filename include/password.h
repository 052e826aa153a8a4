/*
 * Passwords (API.md POST /register, POST /login): the form rule, salted
 * yescrypt hashes through libxcrypt, and a constant-time verification that
 * costs the same for an unknown user as for a wrong password.
 */
#ifndef PASSWORD_H
#define PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "bounds.h"

enum password_rc {
	PASSWORD_OK,       /* hashed, or the password matches */
	PASSWORD_MISMATCH, /* the password does not match the hash */
	PASSWORD_INVALID,  /* the password breaks the form rule */
	PASSWORD_ERROR,    /* libcrypt failed (no memory, a bad hash) */
	PASSWORD_RC__MAX
};

/*
 * True when the len bytes at pw are an acceptable new password: 8 to 128
 * bytes (PASSWORD_LEN_MIN/MAX), valid UTF-8 (RFC 3629: no overlong forms,
 * no surrogates), and no NUL byte.
 */
bool password_is_valid(const char *pw, size_t len);

/*
 * Makes the dummy hash that password_verify_dummy() checks against: a hash
 * of a random password at PASSWORD_HASH_COST. Call it once at worker
 * start-up; the other functions call it lazily when that was not done.
 * Returns 0, or -1 when libcrypt or getrandom(2) failed.
 */
int password_init(void);

/*
 * Hashes a valid password (see password_is_valid) with a fresh salt into
 * out, PASSWORD_HASH_SIZE_MAX bytes with the NUL. Returns PASSWORD_OK,
 * PASSWORD_INVALID, or PASSWORD_ERROR (out is then "").
 */
enum password_rc password_hash(
    const char *pw, size_t len, char out[PASSWORD_HASH_SIZE_MAX]);

/*
 * Checks the len bytes at pw against a stored hash, comparing in constant
 * time. A password of a length no stored one can have still costs a full
 * hash, so the answer's timing says nothing about why it failed. Returns
 * PASSWORD_OK, PASSWORD_MISMATCH, or PASSWORD_ERROR for a hash libcrypt
 * cannot read.
 */
enum password_rc password_verify(const char *pw, size_t len, const char *hash);

/*
 * Spends the time of one password_verify() against the dummy hash and
 * returns PASSWORD_MISMATCH: what login does for an unknown user.
 */
enum password_rc password_verify_dummy(const char *pw, size_t len);

/*
 * How many hashes this process has computed to check a password: one for
 * each password_verify() and password_verify_dummy(), whatever the answer.
 * Lets a test count the work of a login instead of timing it.
 */
unsigned long password_check_count(void);

/*
 * The dummy hash (of a random phrase, no secret), "" before
 * password_init(): its settings are those of every new hash.
 */
const char *password_dummy_hash(void);

#endif /* PASSWORD_H */
