/*
 * The benchmark's HTTP + FastCGI limit: payd's own master, worker loop,
 * request reading and response writing, answering a fixed JSON body with
 * no database. nginx in front of it shows what the stack costs without SQL.
 */
#include <stdlib.h>

#include "config.h"
#include "handler.h"
#include "log.h"
#include "master.h"
#include "worker.h"

static void hello_dispatch(struct ctx *ctx);

static void
hello_dispatch(struct ctx *ctx)
{
	ctx->route = "hello";
	(void)buf_puts(&ctx->resp->body,
	    "{\"username\":\"hello\",\"balance\":\"12.50\",\"currency\":\"USD\"}");
}

int
main(int argc, char *argv[])
{
	static struct config cfg;
	char err[256];
	const char *path = argc > 1 ? argv[1] : NULL;

	config_defaults(&cfg);
	if (config_load(&cfg, path, err, sizeof(err)) != 0)
		fatal("config: %s", err);
	log_init(cfg.log_level);
	worker_dispatch = hello_dispatch;
	worker_uses_db = false;
	return master_run(path, &cfg);
}
