/*
 * Password hashing with libxcrypt's yescrypt ("$y$", crypt(5)).
 */
#include <crypt.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "password.h"
#include "util.h"

/*
 * libcrypt's scratch space, 32 KiB: one per process, because a worker
 * serves one request at a time. It is wiped after every use, since it
 * holds state derived from the password.
 */
static struct crypt_data password_cd;
/* The hash that unknown users are checked against (password_init). */
static char password_dummy[PASSWORD_HASH_SIZE_MAX];
/* Hashes computed to check a password (password_check_count). */
static unsigned long password_checks;

static bool password_is_utf8(const unsigned char *s, size_t len);
static bool password_equal(const char *a, const char *b, size_t len);
static enum password_rc password_check(const char *phrase, const char *hash);
static enum password_rc password_make(
    const char *pw, char out[PASSWORD_HASH_SIZE_MAX]);
static void password_lazy_init(void);

/*
 * RFC 3629 section 4: the well-formed byte sequences, which rules out
 * overlong forms, surrogates and code points above U+10FFFF.
 */
static bool
password_is_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t n;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c == 0xe0 || c == 0xed || (c >= 0xe1 && c <= 0xef))
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		else
			return false;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (len - i - 1 < n || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		i += n + 1;
	}
	return true;
}

bool
password_is_valid(const char *pw, size_t len)
{
	if (len < PASSWORD_LEN_MIN || len > PASSWORD_LEN_MAX)
		return false;
	if (memchr(pw, '\0', len) != NULL)
		return false;
	return password_is_utf8((const unsigned char *)pw, len);
}

/*
 * Compares every byte whatever the first difference, so the time taken
 * says nothing about how much of a hash matched.
 */
static bool
password_equal(const char *a, const char *b, size_t len)
{
	volatile unsigned char diff = 0;

	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/* Hashes phrase with the setting of hash and compares the result. */
static enum password_rc
password_check(const char *phrase, const char *hash)
{
	enum password_rc rc = PASSWORD_MISMATCH;
	size_t len = strlen(hash);
	const char *out;

	password_checks++;
	out = crypt_rn(phrase, hash, &password_cd, (int)sizeof(password_cd));
	if (out == NULL || out[0] == '*') {
		log_event(LOG_ERROR, "password",
		    "call=crypt_rn errno=%d msg=\"%s\"", errno,
		    strerror(errno));
		rc = PASSWORD_ERROR;
	} else if (strlen(out) == len && password_equal(out, hash, len)) {
		rc = PASSWORD_OK;
	}
	explicit_bzero(&password_cd, sizeof(password_cd));
	return rc;
}

int
password_init(void)
{
	unsigned char raw[PASSWORD_DUMMY_RANDOM_SIZE];
	char phrase[PASSWORD_DUMMY_RANDOM_SIZE * 2 + 1];
	enum password_rc rc;

	if (util_random(raw, sizeof(raw)) != 0) {
		log_event(LOG_ERROR, "password", "call=getrandom msg=\"%s\"",
		    strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		(void)snprintf(phrase + 2 * i, 3, "%02x", raw[i]);
	rc = password_make(phrase, password_dummy);
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(phrase, sizeof(phrase));
	return rc == PASSWORD_OK ? 0 : -1;
}

/*
 * Makes the dummy hash on the first password operation of a process that
 * did not call password_init(), so that only that one request pays twice.
 */
static void
password_lazy_init(void)
{
	if (password_dummy[0] == '\0')
		(void)password_init();
}

/* Hashes the NUL-terminated pw with a fresh salt into out. */
static enum password_rc
password_make(const char *pw, char out[PASSWORD_HASH_SIZE_MAX])
{
	enum password_rc rc = PASSWORD_ERROR;
	const char *hash;
	char *setting;

	out[0] = '\0';
	/* A fresh salt from the kernel's random source for every hash. */
	setting = crypt_gensalt_ra("$y$", PASSWORD_HASH_COST, NULL, 0);
	if (setting == NULL) {
		log_event(LOG_ERROR, "password",
		    "call=crypt_gensalt_ra errno=%d msg=\"%s\"", errno,
		    strerror(errno));
		return PASSWORD_ERROR;
	}
	hash = crypt_rn(pw, setting, &password_cd, (int)sizeof(password_cd));
	if (hash == NULL || hash[0] == '*')
		log_event(LOG_ERROR, "password",
		    "call=crypt_rn errno=%d msg=\"%s\"", errno,
		    strerror(errno));
	else if (util_copy(out, PASSWORD_HASH_SIZE_MAX, hash) == 0)
		rc = PASSWORD_OK;
	explicit_bzero(&password_cd, sizeof(password_cd));
	free(setting);
	return rc;
}

enum password_rc
password_hash(const char *pw, size_t len, char out[PASSWORD_HASH_SIZE_MAX])
{
	char phrase[PASSWORD_LEN_MAX + 1];
	enum password_rc rc;

	out[0] = '\0';
	if (!password_is_valid(pw, len))
		return PASSWORD_INVALID;
	password_lazy_init();
	/* libcrypt wants a C string; the caller's bytes need not be one. */
	memcpy(phrase, pw, len);
	phrase[len] = '\0';
	rc = password_make(phrase, out);
	explicit_bzero(phrase, sizeof(phrase));
	return rc;
}

enum password_rc
password_verify(const char *pw, size_t len, const char *hash)
{
	char phrase[PASSWORD_LEN_MAX + 1];
	bool usable = password_is_valid(pw, len);
	enum password_rc rc;

	password_lazy_init();
	/*
	 * A password no account can have (too long, a NUL inside) is not
	 * passed on, but an empty phrase is hashed in its place so that it
	 * costs the same as any other wrong password.
	 */
	memcpy(phrase, pw, usable ? len : 0);
	phrase[usable ? len : 0] = '\0';
	rc = password_check(phrase, hash);
	explicit_bzero(phrase, sizeof(phrase));
	if (rc == PASSWORD_OK && !usable)
		rc = PASSWORD_MISMATCH;
	return rc;
}

enum password_rc
password_verify_dummy(const char *pw, size_t len)
{
	password_lazy_init();
	if (password_dummy[0] != '\0')
		(void)password_verify(pw, len, password_dummy);
	return PASSWORD_MISMATCH;
}

unsigned long
password_check_count(void)
{
	return password_checks;
}

const char *
password_dummy_hash(void)
{
	return password_dummy;
}
