/*
 * The benchmark's HTTP + FastCGI limit: payd's own master, worker loop,
 * request reading and response writing, answering a fixed JSON body with
 * no database. nginx in front of it shows what the stack costs without SQL.
 *
 * Usage: payd-hello [-c config] [serve], like payd, so that the stack's
 * stack_app_start starts either binary the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "handler.h"
#include "log.h"
#include "master.h"
#include "worker.h"

static unsigned hello_route(struct ctx *ctx);
static void hello_run(struct ctx *ctx);

/*
 * Every request is a read, like GET /balance: the worker takes them in
 * the same batches (worker.c), with nothing to load.
 */
static unsigned
hello_route(struct ctx *ctx)
{
	ctx->route = "hello";
	return 1; /* one kind of request: all may go together */
}

/* The body of a GET /balance answer, so both move the same bytes. */
static void
hello_run(struct ctx *ctx)
{
	ctx->resp->status = 200;
	(void)buf_puts(&ctx->resp->body, "{\"username\":\"hello\",\"balance\":"
	                                 "\"12.50\",\"currency\":\"USD\"}");
}

int
main(int argc, char *argv[])
{
	static struct config cfg;
	const char *path = NULL;
	char err[256];
	int ch;

	while ((ch = getopt(argc, argv, "c:")) != -1) {
		if (ch != 'c') {
			(void)fprintf(
			    stderr, "usage: payd-hello [-c config] [serve]\n");
			return 2;
		}
		path = optarg;
	}
	if (optind < argc && strcmp(argv[optind], "serve") == 0)
		optind++;
	if (optind != argc) {
		(void)fprintf(
		    stderr, "usage: payd-hello [-c config] [serve]\n");
		return 2;
	}
	config_defaults(&cfg);
	if (config_load(&cfg, path, err, sizeof(err)) != 0)
		fatal("config: %s", err);
	log_init(cfg.log_level);
	if (log_open_file(cfg.log_file) != 0)
		fatal("log_file: %s", cfg.log_file);
	worker_app.route = hello_route;
	worker_app.load = NULL;
	worker_app.run = hello_run;
	worker_app.uses_db = false;
	return master_run(path, &cfg);
}
