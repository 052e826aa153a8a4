/*
 * Access tokens (API.md Authentication): HS256 JWTs (RFC 7519, RFC 7515)
 * through libjwt, with the claims sub, name, iat, exp and jti, and gen:
 * the user's token generation when it was issued (users.token_gen, which
 * POST /logout and POST /password raise, so that auth.c refuses every
 * token issued before; sql/003_accounts.sql). Both
 * functions are pure apart from the random jti: the secret and the time
 * are parameters, so tests can drive them.
 */
#ifndef TOKEN_H
#define TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"

enum token_rc {
	TOKEN_OK,        /* issued, or valid */
	TOKEN_MALFORMED, /* not three base64url segments, bad header, size */
	TOKEN_BAD_ALG,   /* the header's alg is not exactly "HS256" */
	TOKEN_BAD_SIG,   /* libjwt refused it: signature or encoding */
	TOKEN_CLAIMS,    /* a claim is missing, mistyped or implausible */
	TOKEN_FUTURE,    /* iat more than TOKEN_SKEW_S ahead of now */
	TOKEN_EXPIRED,   /* exp more than TOKEN_SKEW_S behind now */
	TOKEN_ERROR,     /* no memory, no randomness, no room in out */
	TOKEN_RC__MAX
};

/* What a valid token says. */
struct token_claims {
	int64_t user_id;                 /* sub, a positive integer */
	char name[USERNAME_LEN_MAX + 1]; /* name, a valid username */
	int64_t iat;                     /* issued at, UNIX seconds */
	int64_t exp;                     /* expires at, UNIX seconds */
	int64_t gen;                     /* the token generation, >= 0 */
};

/* The name of a token_rc, for logs ("expired", "bad_alg"...). */
const char *token_rc_name(enum token_rc rc);

/*
 * Issues a token for user_id (> 0), name (a valid username) and token
 * generation gen (>= 0) that lives
 * ttl_s seconds (1 to TOKEN_TTL_S_MAX) from now, signed HS256 with the
 * secret_len bytes of secret. out receives the token, NUL-terminated.
 * Returns TOKEN_OK, or TOKEN_ERROR (out is then ""). The caller should
 * wipe out once it has been sent.
 */
enum token_rc token_issue(const char *secret, size_t secret_len,
    int64_t user_id, const char *name, int64_t gen, int64_t now, int ttl_s,
    char out[TOKEN_SIZE_MAX + 1]);

/*
 * Verifies token (a C string) at time now. The header must say exactly
 * "alg":"HS256" before libjwt sees the token; then the signature must
 * match secret, and the claims must hold: sub a positive integer string,
 * name a valid username, jti present, gen an integer >= 0 (0 when
 * absent), 0 <= iat < exp <= iat +
 * TOKEN_TTL_S_MAX, iat <= now + TOKEN_SKEW_S and now <= exp +
 * TOKEN_SKEW_S. Tokens over TOKEN_SIZE_MAX bytes are refused unread.
 * Returns TOKEN_OK and fills claims, or the reason of the refusal (claims
 * is then zeroed).
 */
enum token_rc token_verify(const char *secret, size_t secret_len,
    const char *token, int64_t now, struct token_claims *claims);

#endif /* TOKEN_H */
