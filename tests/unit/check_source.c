/*
 * Goal: facts the README states about the source tree stay true.
 *  - Every limit is a named constant in include/bounds.h: no other file of
 *    app/ or include/ #defines a number (a code or a state is an enum).
 * Reads the tree from the repository's root (make test-unit runs there;
 * PAYD_SRC_DIR= names another).
 */
#include <check.h>
#include <glob.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Suite *source_suite(void);

/* A source line worth reading; longer lines are read in pieces. */
#define SOURCE_LINE_SIZE 1024
#define SOURCE_PATH_SIZE 512

static const char *
src_dir(void)
{
	const char *d = getenv("PAYD_SRC_DIR");

	return d != NULL && d[0] != '\0' ? d : ".";
}

/* The files of pattern (relative to the root), in glob's order. */
static void
src_glob(const char *pattern, glob_t *g)
{
	char path[SOURCE_PATH_SIZE];

	(void)snprintf(path, sizeof(path), "%s/%s", src_dir(), pattern);
	ck_assert_msg(glob(path, 0, NULL, g) == 0,
	    "no %s: run from the repository's root (make test-unit)", path);
}

/* Lines of path matching re, as "path:line: text" into out; their count. */
static int
src_grep(const char *path, const regex_t *re, char *out, size_t size)
{
	char line[SOURCE_LINE_SIZE];
	FILE *f = fopen(path, "r");
	int n = 0, lineno = 0;
	size_t o = strlen(out);

	ck_assert_msg(f != NULL, "cannot read %s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (regexec(re, line, 0, NULL, 0) != 0)
			continue;
		n++;
		if (o < size)
			o += (size_t)snprintf(
			    out + o, size - o, "%s:%d: %s", path, lineno, line);
	}
	(void)fclose(f);
	return n;
}

START_TEST(test_limits__only_in_bounds_h)
{
	static const char *const patterns[] = {"app/*.c", "include/*.h"};
	char found[4096] = "";
	regex_t re;
	int n = 0;

	ck_assert_int_eq(regcomp(&re,
	                     "^[[:space:]]*#[[:space:]]*define[[:space:]]+"
	                     "[A-Za-z0-9_]+[[:space:]]+[(]*[0-9]",
	                     REG_EXTENDED | REG_NOSUB),
	    0);
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		glob_t g;

		src_glob(patterns[i], &g);
		for (size_t k = 0; k < g.gl_pathc; k++) {
			const char *base = strrchr(g.gl_pathv[k], '/');

			if (strcmp(base, "/bounds.h") == 0)
				continue;
			n += src_grep(g.gl_pathv[k], &re, found, sizeof(found));
		}
		globfree(&g);
	}
	regfree(&re);
	ck_assert_msg(n == 0,
	    "%d numeric #define(s) outside include/bounds.h; a limit goes "
	    "there, with its reason (a code or a state is an enum):\n%s",
	    n, found);
}
END_TEST

START_TEST(test_limits__bounds_h_defines_them)
{
	char found[8192] = "";
	char path[SOURCE_PATH_SIZE];
	regex_t re;

	/* The check above must have something to find where it looks. */
	(void)snprintf(path, sizeof(path), "%s/include/bounds.h", src_dir());
	ck_assert_int_eq(
	    regcomp(&re, "^#define[[:space:]]+[A-Z0-9_]+[[:space:]]+[(]*[0-9]",
	        REG_EXTENDED | REG_NOSUB),
	    0);
	ck_assert_int_gt(src_grep(path, &re, found, sizeof(found)), 20);
	regfree(&re);
}
END_TEST

Suite *
source_suite(void)
{
	Suite *s = suite_create("source");
	TCase *tc = tcase_create("facts");

	tcase_add_test(tc, test_limits__only_in_bounds_h);
	tcase_add_test(tc, test_limits__bounds_h_defines_them);
	suite_add_tcase(s, tc);
	return s;
}
