/*
 * payd: the payment service. Reads the configuration, then runs the master
 * (serve), the migrations (migrate) or the ledger audit (audit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "audit.h"
#include "config.h"
#include "log.h"
#include "master.h"
#include "migrate.h"

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	(void)fprintf(stderr, "usage: payd [-c config] "
	                      "[serve | migrate | audit | check-config]\n"
	                      "       payd [-c config] admin COMMAND ... "
	                      "(payd admin --help)\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	static struct config cfg;
	const char *path = NULL, *cmd = "serve";
	char err[256];
	int ch, rc;

	/* "+": the options of "admin" are its own (admin.c). */
	while ((ch = getopt(argc, argv, "+c:")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind < argc)
		cmd = argv[optind++];
	if (optind != argc && strcmp(cmd, "admin") != 0)
		usage();
	if (path == NULL)
		path = getenv("PAYD_CONFIG");
	config_defaults(&cfg);
	if (config_load(&cfg, path, err, sizeof(err)) != 0)
		fatal("config: %s", err);
	log_init(cfg.log_level);
	if (log_open_file(cfg.log_file) != 0)
		fatal("log_file: %s", cfg.log_file);
	if (strcmp(cmd, "serve") == 0) {
		if (config_check_serve(&cfg, err, sizeof(err)) != 0)
			fatal("config: %s", err);
		rc = master_run(path, &cfg);
	} else if (strcmp(cmd, "migrate") == 0)
		rc = migrate_run(&cfg);
	else if (strcmp(cmd, "audit") == 0)
		rc = audit_run(&cfg);
	else if (strcmp(cmd, "admin") == 0)
		rc = admin_run(&cfg, argc - optind, argv + optind);
	else if (strcmp(cmd, "check-config") == 0) {
		config_log(&cfg);
		rc = 0;
	} else
		usage();
	config_wipe(&cfg);
	return rc;
}
