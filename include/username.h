/*
 * The username rule of API.md POST /register, in one place: a leaf module
 * (no database, no HTTP) that auth, the handlers and token.c share.
 */
#ifndef USERNAME_H
#define USERNAME_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when the len bytes at name are a username: USERNAME_LEN_MIN to
 * USERNAME_LEN_MAX characters of A-Z a-z 0-9 _ . - (bounds.h).
 */
bool username_is_valid(const char *name, size_t len);

#endif /* USERNAME_H */
