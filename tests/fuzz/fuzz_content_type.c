/*
 * Goal: http_is_json() says yes exactly to the Content-Type values API.md
 * allows: application/json, in any case, with optional parameters after a
 * ';' ("application/json; charset=utf-8") and optional blanks (RFC 9110
 * OWS); everything else is 415.
 *
 * Input: the header's value (a C string, as FastCGI's CONTENT_TYPE is).
 * Properties:
 *  - the answer agrees with a model written from RFC 9110 §8.3: the media
 *    type is what precedes the first ';', blanks around it ignored, and it
 *    must equal "application/json" without regard to case;
 *  - metamorphic: an accepted value stays accepted with its letters'
 *    case flipped and with "; charset=utf-8" appended, and is refused with
 *    a token character glued right after "json" ("application/jsonp",
 *    "application/json-patch+json") or a byte put in front of it.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "http.h"

#define FUZZ_CT_SIZE_MAX 512

static bool fuzz_model(const char *ct);

static bool
fuzz_model(const char *ct)
{
	static const char want[] = "application/json";
	size_t end = strcspn(ct, ";"), start = 0;

	while (start < end && (ct[start] == ' ' || ct[start] == '\t'))
		start++;
	while (end > start && (ct[end - 1] == ' ' || ct[end - 1] == '\t'))
		end--;
	return end - start == sizeof(want) - 1 &&
	       strncasecmp(ct + start, want, sizeof(want) - 1) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char ct[FUZZ_CT_SIZE_MAX], alt[FUZZ_CT_SIZE_MAX + 32];
	size_t n = fuzz_cstr(ct, sizeof(ct), data, size);
	bool yes = http_is_json(ct);
	int w;

	FUZZ_CHECK(yes == fuzz_model(ct), "\"%s\": app %d", ct, yes);
	FUZZ_CHECK(!http_is_json(NULL), "NULL accepted");
	if (!yes)
		return 0;

	for (size_t i = 0; i < n; i++)
		alt[i] = (char)(islower((unsigned char)ct[i])
		                    ? toupper((unsigned char)ct[i])
		                    : tolower((unsigned char)ct[i]));
	alt[n] = '\0';
	FUZZ_CHECK(http_is_json(alt), "case flip refused: \"%s\"", alt);

	w = snprintf(alt, sizeof(alt), "%s; charset=utf-8", ct);
	FUZZ_CHECK(w > 0 && (size_t)w < sizeof(alt), "snprintf");
	FUZZ_CHECK(http_is_json(alt), "parameter refused: \"%s\"", alt);

	w = snprintf(alt, sizeof(alt), "x%s", ct);
	FUZZ_CHECK(w > 0 && (size_t)w < sizeof(alt), "snprintf");
	FUZZ_CHECK(!http_is_json(alt), "prefix accepted: \"%s\"", alt);

	/* Glue a token character to the media type itself. */
	{
		const char *json = strcasestr(ct, "json");
		size_t at;

		FUZZ_CHECK(json != NULL, "accepted without json: \"%s\"", ct);
		at = (size_t)(json - ct) + 4;
		w = snprintf(alt, sizeof(alt), "%.*sp%s", (int)at, ct, ct + at);
		FUZZ_CHECK(w > 0 && (size_t)w < sizeof(alt), "snprintf");
		FUZZ_CHECK(!http_is_json(alt), "jsonp accepted: \"%s\"", alt);
		w = snprintf(alt, sizeof(alt), "%.*s-patch+json%s", (int)at, ct,
		    ct + at);
		FUZZ_CHECK(w > 0 && (size_t)w < sizeof(alt), "snprintf");
		FUZZ_CHECK(
		    !http_is_json(alt), "json-patch accepted: \"%s\"", alt);
	}
	return 0;
}
