/*
 * Goal: token_verify() (app/token.c) accepts only the tokens the service
 * itself signed, unaltered and in their time window (API.md
 * Authentication, RFC 7519, RFC 8725). Byte 0 picks the mode.
 *  even: a token is issued from the input's claims (user id, name, time,
 *     lifetime) and checked: it verifies with the key, giving back exactly
 *     those claims, anywhere in [iat - skew, exp + skew]; it is refused
 *     just outside that window, with another key, with any single byte
 *     changed (position and value from the input), cut short, or with a
 *     byte added.
 *  odd: the rest of the input is a token, checked at a fixed time with the
 *     key the seeds were made with (tests/fuzz/corpus/token/). Accepted
 *     means, checked independently here: three base64url segments, a
 *     header whose alg is "HS256", an HMAC-SHA256 of "header.payload"
 *     under the key (OpenSSL, not libjwt) equal to the signature, and
 *     claims that say what token_verify() returned and are in their time
 *     window. Another key never accepts it.
 */
#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "bounds.h"
#include "fuzz.h"
#include "token.h"

/* The seeds' key and time: `make fuzz` seeds were signed with these. */
static const char fuzz_key[] = "fuzz-key-0123456789abcdef0123456789abcdef";
static const char fuzz_other[] = "fuzz-key-0123456789abcdef0123456789abcdeF";
#define FUZZ_NOW ((int64_t)1800000000)

static const char fuzz_name_chars[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";

static uint64_t fuzz_u64(const uint8_t *p, size_t n);
static void fuzz_issued(const uint8_t *data, size_t size);
static size_t fuzz_b64url_decode(
    const char *in, size_t len, char *out, size_t cap);
static void fuzz_b64url_encode(const unsigned char *in, size_t len, char *out);
static void fuzz_raw(const uint8_t *data, size_t size);

static uint64_t
fuzz_u64(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static void
fuzz_issued(const uint8_t *data, size_t size)
{
	char token[TOKEN_SIZE_MAX + 1], alt[TOKEN_SIZE_MAX + 2];
	char name[USERNAME_LEN_MAX + 1];
	struct token_claims c;
	int64_t user_id, now, at;
	size_t nlen, len, pos;
	uint8_t b;
	int ttl;

	if (size < 24)
		return;
	user_id = (int64_t)(fuzz_u64(data, 8) % (uint64_t)INT64_MAX) + 1;
	now = (int64_t)fuzz_u64(data + 8, 5);
	ttl = (int)(fuzz_u64(data + 13, 3) % TOKEN_TTL_S_MAX) + 1;
	nlen = USERNAME_LEN_MIN +
	       data[16] % (USERNAME_LEN_MAX - USERNAME_LEN_MIN + 1);
	for (size_t i = 0; i < nlen; i++)
		name[i] = fuzz_name_chars[(i + 24 < size ? data[i + 24] : i) %
		                          (sizeof(fuzz_name_chars) - 1)];
	name[nlen] = '\0';

	FUZZ_CHECK(token_issue(fuzz_key, sizeof(fuzz_key) - 1, user_id, name,
	               data[20], now, ttl, token) == TOKEN_OK,
	    "issue %lld %s", (long long)user_id, name);
	len = strlen(token);
	FUZZ_CHECK(len > 0 && len <= TOKEN_SIZE_MAX, "length %zu", len);

	/* Inside the window, at a time from the input. */
	at = now - TOKEN_SKEW_S +
	     (int64_t)(fuzz_u64(data + 17, 3) %
	               (uint64_t)(ttl + 2 * TOKEN_SKEW_S + 1));
	if (at < 0)
		at = 0;
	FUZZ_CHECK(token_verify(fuzz_key, sizeof(fuzz_key) - 1, token, at,
	               &c) == TOKEN_OK,
	    "refused at %lld: %s", (long long)at, token);
	FUZZ_CHECK(c.user_id == user_id && strcmp(c.name, name) == 0 &&
	               c.iat == now && c.exp == now + ttl && c.gen == data[20],
	    "claims changed: %s", token);

	/* Just outside it, and under another key. */
	FUZZ_CHECK(token_verify(fuzz_key, sizeof(fuzz_key) - 1, token,
	               now + ttl + TOKEN_SKEW_S + 1, &c) == TOKEN_EXPIRED,
	    "not expired: %s", token);
	FUZZ_CHECK(c.user_id == 0, "claims left on refusal");
	if (now - TOKEN_SKEW_S - 1 >= 0)
		FUZZ_CHECK(token_verify(fuzz_key, sizeof(fuzz_key) - 1, token,
		               now - TOKEN_SKEW_S - 1, &c) == TOKEN_FUTURE,
		    "not in the future: %s", token);
	FUZZ_CHECK(token_verify(fuzz_other, sizeof(fuzz_other) - 1, token, now,
	               &c) != TOKEN_OK,
	    "another key accepts: %s", token);

	/* One byte changed: refused, wherever and whatever it is. */
	pos = (size_t)fuzz_u64(data + 20, 2) % len;
	b = data[22];
	memcpy(alt, token, len + 1);
	if ((uint8_t)alt[pos] == b)
		b ^= 0x01;
	alt[pos] = (char)b;
	FUZZ_CHECK(token_verify(fuzz_key, sizeof(fuzz_key) - 1, alt, now, &c) !=
	               TOKEN_OK,
	    "byte %zu -> 0x%02x accepted: %s", pos, b, token);

	/* Cut short, or one byte longer. */
	memcpy(alt, token, len + 1);
	alt[pos] = '\0';
	FUZZ_CHECK(token_verify(fuzz_key, sizeof(fuzz_key) - 1, alt, now, &c) !=
	               TOKEN_OK,
	    "cut at %zu accepted", pos);
	memcpy(alt, token, len);
	alt[len] = (char)(data[23] != 0 ? data[23] : 'A');
	alt[len + 1] = '\0';
	FUZZ_CHECK(token_verify(fuzz_key, sizeof(fuzz_key) - 1, alt, now, &c) !=
	               TOKEN_OK,
	    "0x%02x appended accepted", data[23]);
}

/* Lenient base64url (RFC 4648 §5) for the checks; returns the length. */
static size_t
fuzz_b64url_decode(const char *in, size_t len, char *out, size_t cap)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned acc = 0, bits = 0;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		const char *p = memchr(abc, in[i], 64);

		if (p == NULL || in[i] == '\0')
			return 0;
		acc = (acc << 6) | (unsigned)(p - abc);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= cap)
				return 0;
			out[n++] = (char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	out[n] = '\0';
	return n;
}

static void
fuzz_b64url_encode(const unsigned char *in, size_t len, char *out)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned acc = 0, bits = 0;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[n++] = abc[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[n++] = abc[(acc << (6 - bits)) & 63];
	out[n] = '\0';
}

static void
fuzz_raw(const uint8_t *data, size_t size)
{
	char token[TOKEN_SIZE_MAX + 64], part[TOKEN_SIZE_MAX + 64];
	char sig[EVP_MAX_MD_SIZE * 2];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	struct token_claims c;
	struct json_object *obj, *v;
	const char *dot1, *dot2;
	size_t len;

	len = fuzz_cstr(token, sizeof(token), data, size);
	if (token_verify(fuzz_key, sizeof(fuzz_key) - 1, token, FUZZ_NOW, &c) !=
	    TOKEN_OK) {
		FUZZ_CHECK(c.user_id == 0 && c.name[0] == '\0',
		    "claims left on refusal");
		return;
	}
	FUZZ_CHECK(len <= TOKEN_SIZE_MAX, "accepted %zu bytes", len);
	dot1 = strchr(token, '.');
	dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
	FUZZ_CHECK(dot2 != NULL && strchr(dot2 + 1, '.') == NULL,
	    "accepted without three segments: %s", token);

	/* The signature, recomputed without libjwt. */
	FUZZ_CHECK(HMAC(EVP_sha256(), fuzz_key, (int)sizeof(fuzz_key) - 1,
	               (const unsigned char *)token, (size_t)(dot2 - token),
	               mac, &mac_len) != NULL &&
	               mac_len == 32,
	    "HMAC");
	fuzz_b64url_encode(mac, mac_len, sig);
	FUZZ_CHECK(
	    strcmp(dot2 + 1, sig) == 0, "signature is not ours: %s", token);

	/* The header says HS256. */
	FUZZ_CHECK(fuzz_b64url_decode(
	               token, (size_t)(dot1 - token), part, sizeof(part)) > 0,
	    "header: %s", token);
	obj = json_tokener_parse(part);
	FUZZ_CHECK(obj != NULL && json_object_object_get_ex(obj, "alg", &v) &&
	               strcmp(json_object_get_string(v), "HS256") == 0,
	    "header: %s", part);
	json_object_put(obj);

	/* The claims are what token_verify() said, and in their window. */
	FUZZ_CHECK(fuzz_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), part,
	               sizeof(part)) > 0,
	    "payload: %s", token);
	obj = json_tokener_parse(part);
	FUZZ_CHECK(obj != NULL, "payload: %s", part);
	FUZZ_CHECK(
	    json_object_object_get_ex(obj, "sub", &v) &&
	        json_object_is_type(v, json_type_string) &&
	        strtoll(json_object_get_string(v), NULL, 10) == c.user_id &&
	        c.user_id > 0,
	    "sub: %s", part);
	FUZZ_CHECK(json_object_object_get_ex(obj, "name", &v) &&
	               strcmp(json_object_get_string(v), c.name) == 0,
	    "name: %s", part);
	FUZZ_CHECK(json_object_object_get_ex(obj, "iat", &v) &&
	               json_object_get_int64(v) == c.iat &&
	               json_object_object_get_ex(obj, "exp", &v) &&
	               json_object_get_int64(v) == c.exp,
	    "times: %s", part);
	FUZZ_CHECK(c.iat >= 0 && c.iat < c.exp &&
	               c.exp - c.iat <= TOKEN_TTL_S_MAX &&
	               c.iat <= FUZZ_NOW + TOKEN_SKEW_S &&
	               FUZZ_NOW <= c.exp + TOKEN_SKEW_S,
	    "window: %s", part);
	FUZZ_CHECK(
	    json_object_object_get_ex(obj, "jti", NULL), "jti: %s", part);
	json_object_put(obj);

	FUZZ_CHECK(token_verify(fuzz_other, sizeof(fuzz_other) - 1, token,
	               FUZZ_NOW, &c) != TOKEN_OK,
	    "another key accepts: %s", token);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_raw(data + 1, size - 1);
	else
		fuzz_issued(data + 1, size - 1);
	return 0;
}
