/*
 * Goal: facts the README states about the source tree stay true.
 *  - Every limit is a named constant in include/bounds.h: no other file of
 *    app/ or include/ #defines a number (a code or a state is an enum).
 *  - The outcome codes of the money procedures are one list: the numbers
 *    the files of sql/ assign to or compare with a state (p_state, v_state...)
 *    are exactly the values of enum ledger_state, each written out.
 *  - token.c and the username rule are leaves: they include no header of
 *    the database, HTTP, handler or auth layers, so the token code (and
 *    its fuzzer) links without them.
 *  - No function of app/ is longer than SOURCE_FUNCTION_LINES_MAX lines
 *    (STYLE.md), and no module of app/ (X.c with include/X.h) includes,
 *    through the headers of others, its own: the includes form no circle.
 * Reads the tree from the repository's root (make test-unit runs there;
 * PAYD_SRC_DIR= names another).
 */
#include <check.h>
#include <glob.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Suite *source_suite(void);

/* A source line worth reading; longer lines are read in pieces. */
#define SOURCE_LINE_SIZE 1024
#define SOURCE_PATH_SIZE 512
/* The longest function body, in lines between its braces (STYLE.md). */
#define SOURCE_FUNCTION_LINES_MAX 70
/* Modules of app/ and include/ (X.c and X.h are one), with room to grow. */
#define SOURCE_MODULES_MAX 128
#define SOURCE_NAME_SIZE 64

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

/* The project headers path includes, one per line, into out. */
static void
src_includes(const char *file, char *out, size_t size)
{
	char path[SOURCE_PATH_SIZE], line[SOURCE_LINE_SIZE];
	size_t o = 0;
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/%s", src_dir(), file);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot read %s", path);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		char name[128];

		if (sscanf(line, "#include \"%127[^\"]\"", name) == 1 &&
		    o < size)
			o += (size_t)snprintf(out + o, size - o, "%s\n", name);
	}
	(void)fclose(f);
}

START_TEST(test_token_and_username__leaves)
{
	static const char *const files[] = {"app/token.c", "app/username.c",
	    "include/token.h", "include/username.h"};
	static const char *const above[] = {"auth.h\n", "db.h\n", "http.h\n",
	    "handler.h\n", "ledger.h\n", "router.h\n", "worker.h\n"};
	char inc[2048];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		src_includes(files[i], inc, sizeof(inc));
		for (size_t k = 0; k < sizeof(above) / sizeof(above[0]); k++) {
			const char *hit = strstr(inc, above[k]);

			ck_assert_msg(
			    hit == NULL || (hit != inc && hit[-1] != '\n'),
			    "%s includes %s", files[i], above[k]);
		}
	}
	/* token.c takes the username rule from its leaf. */
	src_includes("app/token.c", inc, sizeof(inc));
	ck_assert_ptr_nonnull(strstr(inc, "username.h\n"));
}
END_TEST

/* enum ledger_state's members: name and explicit value. */
struct src_code {
	char name[64];
	int value;
};

#define SRC_CODES_MAX 64

/* Reads enum ledger_state from the first file of app/ or include/ with it. */
static int
src_enum_codes(struct src_code *codes, int max)
{
	static const char *const patterns[] = {"include/*.h", "app/*.c"};
	char line[SOURCE_LINE_SIZE];
	int n = -1;

	for (size_t i = 0; i < 2 && n < 0; i++) {
		glob_t g;

		src_glob(patterns[i], &g);
		for (size_t k = 0; k < g.gl_pathc && n < 0; k++) {
			FILE *f = fopen(g.gl_pathv[k], "r");

			ck_assert_ptr_nonnull(f);
			while (fgets(line, sizeof(line), f) != NULL) {
				struct src_code c;
				char eq;

				if (n < 0) {
					if (strncmp(line, "enum ledger_state {",
					        19) == 0)
						n = 0;
					continue;
				}
				if (line[0] == '}')
					break;
				if (sscanf(line, " %63[A-Z0-9_] %c %d", c.name,
				        &eq, &c.value) != 3 ||
				    eq != '=') {
					ck_assert_msg(
					    strstr(line, "__MAX") != NULL,
					    "enum ledger_state: no value "
					    "written out: %s",
					    line);
					continue;
				}
				ck_assert_int_lt(n, max);
				codes[n++] = c;
			}
			(void)fclose(f);
		}
		globfree(&g);
	}
	ck_assert_msg(n > 0,
	    "enum ledger_state not found in include/ or app/: the codes "
	    "the SQL answers are defined once, in C");
	return n;
}

/*
 * Each number the SQL assigns to or compares with a state variable:
 * "p_state = 6", "v_state <> 0", "v_state1 TINYINT DEFAULT 8",
 * "p_state = IF(cond, 4, 5)". Comments are not read.
 */
static int
src_sql_codes(const char *path, int *values, int *lines, int max)
{
	static const char *const forms[] = {
	    "[pv]_state[0-9]*[[:space:]]*(=|<>|!=)[[:space:]]*()([0-9]+)",
	    "[pv]_state[0-9]*[[:space:]]+TINYINT[[:space:]]+DEFAULT"
	    "[[:space:]]+()()([0-9]+)",
	    "[pv]_state[0-9]*[[:space:]]*=[[:space:]]*IF[[:space:]]*[(][^,]*,"
	    "[[:space:]]*([0-9]+)[[:space:]]*,[[:space:]]*()([0-9]+)",
	};
	char line[SOURCE_LINE_SIZE];
	FILE *f = fopen(path, "r");
	int n = 0, lineno = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *dash = strstr(line, "--");

		lineno++;
		if (dash != NULL)
			*dash = '\0';
		for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
			regex_t re;
			regmatch_t m[4];
			const char *p = line;

			ck_assert_int_eq(
			    regcomp(&re, forms[i], REG_EXTENDED), 0);
			while (regexec(&re, p, 4, m, 0) == 0) {
				for (int g = 1; g <= 3; g += 2) {
					if (m[g].rm_so < 0 ||
					    m[g].rm_eo == m[g].rm_so)
						continue;
					ck_assert_int_lt(n, max);
					lines[n] = lineno;
					values[n++] = atoi(p + m[g].rm_so);
				}
				p += m[0].rm_eo;
			}
			regfree(&re);
		}
	}
	(void)fclose(f);
	return n;
}

START_TEST(test_outcome_codes__sql_and_c_agree)
{
	struct src_code codes[SRC_CODES_MAX];
	int ncodes = src_enum_codes(codes, SRC_CODES_MAX);
	bool used[SRC_CODES_MAX] = {false};
	int values[512], lines[512], files = 0;
	glob_t g;

	for (int i = 0; i < ncodes; i++)
		for (int k = 0; k < i; k++)
			ck_assert_msg(codes[i].value != codes[k].value,
			    "%s and %s are both %d", codes[i].name,
			    codes[k].name, codes[i].value);
	src_glob("sql/*.sql", &g);
	for (size_t k = 0; k < g.gl_pathc; k++) {
		int n = src_sql_codes(g.gl_pathv[k], values, lines,
		    (int)(sizeof(values) / sizeof(values[0])));

		files += n > 0;
		for (int v = 0; v < n; v++) {
			int found = -1;

			for (int i = 0; i < ncodes; i++)
				if (codes[i].value == values[v])
					found = i;
			ck_assert_msg(found >= 0,
			    "%s:%d: state %d is no value of enum ledger_state",
			    g.gl_pathv[k], lines[v], values[v]);
			used[found] = true;
		}
	}
	globfree(&g);
	ck_assert_int_gt(files, 0);
	for (int i = 0; i < ncodes; i++)
		ck_assert_msg(used[i], "%s (%d): no procedure in sql/ uses it",
		    codes[i].name, codes[i].value);
}
END_TEST

/*
 * Function bodies: from a line that is "{" to the next that starts with
 * "}", as clang-format lays out every function of app/ (.clang-format).
 */
START_TEST(test_functions__at_most_70_lines)
{
	char found[4096] = "", line[SOURCE_LINE_SIZE], name[SOURCE_LINE_SIZE];
	size_t o = 0;
	int bodies = 0;
	glob_t g;

	src_glob("app/*.c", &g);
	for (size_t k = 0; k < g.gl_pathc; k++) {
		FILE *f = fopen(g.gl_pathv[k], "r");
		int lineno = 0, start = 0;

		ck_assert_msg(f != NULL, "cannot read %s", g.gl_pathv[k]);
		name[0] = '\0';
		while (fgets(line, sizeof(line), f) != NULL) {
			lineno++;
			if (line[0] == '{') {
				start = lineno;
				continue;
			}
			if (start == 0) {
				if (line[0] >= 'a' && line[0] <= 'z')
					(void)snprintf(
					    name, sizeof(name), "%s", line);
				continue;
			}
			if (line[0] != '}')
				continue;
			bodies++;
			if (lineno - start - 1 > SOURCE_FUNCTION_LINES_MAX &&
			    o < sizeof(found))
				o += (size_t)snprintf(found + o,
				    sizeof(found) - o, "%s:%d: %d lines: %s",
				    g.gl_pathv[k], start, lineno - start - 1,
				    name);
			start = 0;
		}
		(void)fclose(f);
	}
	globfree(&g);
	/* The check must have read the functions it looks for. */
	ck_assert_int_gt(bodies, 300);
	ck_assert_msg(found[0] == '\0',
	    "functions over %d lines; split them:\n%s",
	    SOURCE_FUNCTION_LINES_MAX, found);
}
END_TEST

/* The module names of app/ and include/, and who includes whom. */
struct src_graph {
	char names[SOURCE_MODULES_MAX][SOURCE_NAME_SIZE];
	size_t n;
	bool edge[SOURCE_MODULES_MAX][SOURCE_MODULES_MAX];
	int color[SOURCE_MODULES_MAX]; /* 0 unseen, 1 on the path, 2 done */
	size_t path[SOURCE_MODULES_MAX];
};

/* The index of module name (added when new). */
static size_t
src_module(struct src_graph *gr, const char *name, size_t len)
{
	for (size_t i = 0; i < gr->n; i++)
		if (strlen(gr->names[i]) == len &&
		    strncmp(gr->names[i], name, len) == 0)
			return i;
	ck_assert_uint_lt(gr->n, SOURCE_MODULES_MAX);
	ck_assert_uint_lt(len, SOURCE_NAME_SIZE);
	memcpy(gr->names[gr->n], name, len);
	gr->names[gr->n][len] = '\0';
	return gr->n++;
}

/* Adds the includes of every file of pattern as edges of gr. */
static void
src_graph_add(struct src_graph *gr, const char *pattern)
{
	char inc[2048];
	glob_t g;

	src_glob(pattern, &g);
	for (size_t k = 0; k < g.gl_pathc; k++) {
		const char *base = strrchr(g.gl_pathv[k], '/') + 1;
		size_t from = src_module(gr, base, strcspn(base, "."));
		const char *rel = g.gl_pathv[k] + strlen(src_dir()) + 1;

		src_includes(rel, inc, sizeof(inc));
		for (char *p = inc; *p != '\0'; p = strchr(p, '\n') + 1) {
			size_t to = src_module(gr, p, strcspn(p, "."));

			if (to != from)
				gr->edge[from][to] = true;
		}
	}
	globfree(&g);
}

/* Depth first from u; a module met again on the path is a circle. */
static void
src_graph_walk(struct src_graph *gr, size_t u, size_t depth)
{
	gr->color[u] = 1;
	gr->path[depth] = u;
	for (size_t v = 0; v < gr->n; v++) {
		char circle[1024] = "";
		size_t o = 0;

		if (!gr->edge[u][v] || gr->color[v] == 2)
			continue;
		if (gr->color[v] == 0) {
			src_graph_walk(gr, v, depth + 1);
			continue;
		}
		for (size_t d = 0; d <= depth; d++)
			if (o < sizeof(circle))
				o += (size_t)snprintf(circle + o,
				    sizeof(circle) - o, "%s -> ",
				    gr->names[gr->path[d]]);
		ck_assert_msg(
		    false, "the includes go round: %s%s", circle, gr->names[v]);
	}
	gr->color[u] = 2;
}

START_TEST(test_includes__no_circle)
{
	static struct src_graph gr;
	size_t edges = 0;

	memset(&gr, 0, sizeof(gr));
	src_graph_add(&gr, "app/*.c");
	src_graph_add(&gr, "include/*.h");
	for (size_t u = 0; u < gr.n; u++)
		for (size_t v = 0; v < gr.n; v++)
			edges += gr.edge[u][v];
	ck_assert_int_gt(edges, 100);
	for (size_t u = 0; u < gr.n; u++)
		if (gr.color[u] == 0)
			src_graph_walk(&gr, u, 0);
}
END_TEST

Suite *
source_suite(void)
{
	Suite *s = suite_create("source");
	TCase *tc = tcase_create("facts");

	tcase_add_test(tc, test_limits__only_in_bounds_h);
	tcase_add_test(tc, test_limits__bounds_h_defines_them);
	tcase_add_test(tc, test_token_and_username__leaves);
	tcase_add_test(tc, test_outcome_codes__sql_and_c_agree);
	tcase_add_test(tc, test_functions__at_most_70_lines);
	tcase_add_test(tc, test_includes__no_circle);
	suite_add_tcase(s, tc);
	return s;
}
