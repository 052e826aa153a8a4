/*
 * The username rule (include/username.h).
 */
#include "bounds.h"
#include "username.h"

bool
username_is_valid(const char *name, size_t len)
{
	if (len < USERNAME_LEN_MIN || len > USERNAME_LEN_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		        (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		        c == '-'))
			return false;
	}
	return true;
}
