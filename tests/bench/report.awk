# make bench's report: reads the results file of tests/bench/run.sh (one
# "label=... conns=... rps=... p50_ms=... cpu_app=..." line per run) and
# the run's facts from the environment; prints Markdown (the stdout table
# and the body of tests/bench/RESULTS.md).
function v(label, c, key) { return R[label, c, key] }
function has(label, c) { return ((label, c, "rps") in R) }
function ms(x) { return x == "" ? "-" : sprintf("%.2f", x) }
function n0(x) { return x == "" ? "-" : sprintf("%.0f", x) }
function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
function bad(label, c,    s, n, i, kv, t) {
	# Answers that are neither 2xx nor the expected 422, plus socket errors.
	t = v(label, c, "errors") + 0
	n = split(v(label, c, "statuses"), s, ",")
	for (i = 1; i <= n; i++) {
		split(s[i], kv, ":")
		if (kv[1] !~ /^2/ && kv[1] != "422") t += kv[2]
	}
	return t
}
function n422(label, c,    s, n, i, kv) {
	n = split(v(label, c, "statuses"), s, ",")
	for (i = 1; i <= n; i++) { split(s[i], kv, ":"); if (kv[1] == "422") return kv[2] }
	return 0
}
function check(name, ok, figure) {
	printf "| %s | %s | %s |\n", name, figure, ok ? "met" : "**missed**"
	if (!ok) missed++
}
function rss_list(s,    n, i, a, kv, out) {
	n = split(s, a, " ")
	out = ""
	for (i = 1; i <= n; i++) {
		split(a[i], kv, ":")
		out = out (out == "" ? "" : ", ") sprintf("%.1f", kv[2] / 1024)
		if (kv[2] / 1024 > rss_max) rss_max = kv[2] / 1024
	}
	return out == "" ? "-" : out " MiB"
}
function rss_sum(s,    n, i, a, kv, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) { split(a[i], kv, ":"); t += kv[2] }
	return t
}
{
	label = ""; c = ""
	for (i = 1; i <= NF; i++) {
		eq = index($i, "=")
		k = substr($i, 1, eq - 1); val = substr($i, eq + 1)
		if (val ~ /^-?[0-9]+(\.[0-9]+)?$/) val += 0
		if (k == "label") label = val
		else if (k == "conns") c = val
		else kv[k] = val
	}
	for (k in kv) R[label, c, k] = kv[k]
	delete kv
	if (!((label) in seen)) { seen[label] = 1 }
	own = label == "warm" || label == "dblimit_batch" || label ~ /^batch[0-9]/ || label ~ /^payoutdb/ || label ~ /^statement[0-9]/ || label == "balance_at"
	if (!((c) in cseen) && !own) { cseen[c] = 1; clist[++nc] = c }
	if (label ~ /^batch[0-9]/) { batch_conns = c; blist[++nb] = label }
	if (label ~ /^statement[0-9]/ || label == "balance_at") { hist_conns = c; hlist[++nh] = label }
	if (label == "dblimit_batch") batch_c = c
	order[++nr] = label SUBSEP c
}
END {
	E["x"] = ""
	sc = ENVIRON["shape_conns"]
	printf "## Latest run\n\n"
	printf "- %s, commit %s; %s cores (%s), kernel %s; MariaDB %s, nginx %s.\n",
	    ENVIRON["date_utc"], ENVIRON["commit"], ENVIRON["ncpu"],
	    ENVIRON["cpu_model"], ENVIRON["kernel"], ENVIRON["mariadb_v"],
	    ENVIRON["nginx_v"]
	printf "- %s s per run; %s accounts, %s of them sending (logged in once), 1.00 per transfer (fee 0.75); payd workers: %s (config %s), log level %s, nginx FastCGI keep-alive: %s.\n",
	    ENVIRON["secs"], ENVIRON["accounts"], ENVIRON["senders"],
	    ENVIRON["app_workers"], (ENVIRON["workers"] == 0 ? "0 = two per CPU" : ENVIRON["workers"]),
	    ENVIRON["log_level"], (ENVIRON["fcgi_keepalive"] > 0 ? ENVIRON["fcgi_keepalive"] : "off (as shipped)")
	printf "- wrk, the stack and the limits all share these %s cores; other work on the machine shows as \"rest\" in the CPU split. Expect a few %% of noise, more when the machine is busy.\n\n", ENVIRON["ncpu"]

	printf "### POST /transfer vs the database limit (same connections)\n\n"
	printf "The database limit is bench-dblimit: the app's own ledger core, ledger_move() (the same CALL payd_transfer of sql/R__payd_transfer.sql: the caller's row, the moves, the ledger rows, the same fee sub-accounts) on N direct connections, one transfer per transaction, no HTTP. The service takes the transfers that wait for a worker together, up to 8 in one transaction (CALL payd_transfer_many); below the table, what the database does with such batches.\n\n"
	printf "| conns | transfers/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx (422) | DB limit/s | DB p50 | DB p99 | DB max | ratio | p99 ratio |\n"
	printf "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
	for (i = 1; i <= nc; i++) {
		c = clist[i]
		if (!has("transfer", c) && !has("dblimit", c)) continue
		printf "| %s | %s | %s | %s | %s | %s | %s (%s) | %s | %s | %s | %s | %s | %s |\n", c,
		    n0(v("transfer", c, "rps")), ms(v("transfer", c, "p50_ms")),
		    ms(v("transfer", c, "p90_ms")), ms(v("transfer", c, "p99_ms")),
		    ms(v("transfer", c, "max_ms")),
		    (has("transfer", c) ? v("transfer", c, "non2xx") + v("transfer", c, "errors") : "-"),
		    (has("transfer", c) ? n422("transfer", c) : "-"),
		    n0(v("dblimit", c, "rps")), ms(v("dblimit", c, "p50_ms")),
		    ms(v("dblimit", c, "p99_ms")), ms(v("dblimit", c, "max_ms")),
		    ratio(v("transfer", c, "rps"), v("dblimit", c, "rps")),
		    ratio(v("transfer", c, "p99_ms"), v("dblimit", c, "p99_ms"))
	}
	if (has("dblimit_batch", batch_c)) {
		printf "\nThe database with the app's batches (bench-dblimit -b 8: CALL payd_transfer_many, 8 transfers a transaction, on %s connections, one per worker; no HTTP): %s transfers/s, p50 %s ms, p99 %s ms", batch_c,
		    n0(v("dblimit_batch", batch_c, "rps")), ms(v("dblimit_batch", batch_c, "p50_ms")), ms(v("dblimit_batch", batch_c, "p99_ms"))
		if (has("transfer", 64))
			printf "; POST /transfer at 64 connections is %s of it", ratio(v("transfer", 64, "rps"), v("dblimit_batch", batch_c, "rps"))
		printf ".\n"
	}
	printf "\n### GET /balance vs the HTTP + FastCGI limit (nginx + payd-hello)\n\n"
	printf "| conns | reads/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | hello/s | hello p50 | hello p99 | ratio |\n"
	printf "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
	for (i = 1; i <= nc; i++) {
		c = clist[i]
		if (!has("balance", c) && !has("hello", c)) continue
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c,
		    n0(v("balance", c, "rps")), ms(v("balance", c, "p50_ms")),
		    ms(v("balance", c, "p90_ms")), ms(v("balance", c, "p99_ms")),
		    ms(v("balance", c, "max_ms")),
		    (has("balance", c) ? v("balance", c, "non2xx") + v("balance", c, "errors") : "-"),
		    n0(v("hello", c, "rps")), ms(v("hello", c, "p50_ms")),
		    ms(v("hello", c, "p99_ms")),
		    ratio(v("balance", c, "rps"), v("hello", c, "rps"))
	}
	if (has("hot10", sc) || has("merchant", sc)) {
		printf "\n### Contention shapes, %s connections\n\n", sc
		printf "| shape | transfers/s | p50 ms | p99 ms | max ms | non-2xx (422) | DB limit/s | DB p99 | ratio |\n"
		printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
		nshape = split("transfer:dblimit:10 000 accounts, little contention|hot10:hot10_db:10 accounts, hot rows|merchant:merchant_db:one merchant, the hot account", S, "|")
		for (j = 1; j <= nshape; j++) {
			split(S[j], p, ":")
			if (!has(p[1], sc)) continue
			printf "| %s | %s | %s | %s | %s | %s (%s) | %s | %s | %s |\n", p[3],
			    n0(v(p[1], sc, "rps")), ms(v(p[1], sc, "p50_ms")),
			    ms(v(p[1], sc, "p99_ms")), ms(v(p[1], sc, "max_ms")),
			    v(p[1], sc, "non2xx") + v(p[1], sc, "errors"), n422(p[1], sc),
			    n0(v(p[2], sc, "rps")), ms(v(p[2], sc, "p99_ms")),
			    ratio(v(p[1], sc, "rps"), v(p[2], sc, "rps"))
		}
	}
	if (nb > 0) {
		printf "\n### POST /transfers/batch, %s connections (issue 19)\n\n", batch_conns
		printf "transfers/s = batches/s x items. Beside: POST /transfer at 64 connections, and the database limit: the same batches (atomic) through ledger_batch_run() on as many direct connections (bench-dblimit -P), no HTTP.\n\n"
		printf "| batch | batches/s | transfers/s | p50 ms | p99 ms | max ms | non-2xx (422) | x POST /transfer | DB limit transfers/s | x DB limit |\n"
		printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
		for (i = 1; i <= nb; i++) {
			l = blist[i]; items = l; sub(/^batch/, "", items); sub(/_.*/, "", items)
			mode = l ~ /_true$/ ? "atomic" : "each"
			tps = v(l, batch_conns, "rps") * items
			dbl = v("payoutdb" items, batch_conns, "rps")
			printf "| %s items, %s | %s | %s | %s | %s | %s | %s (%s) | %s | %s | %s |\n", items, mode,
			    sprintf("%.1f", v(l, batch_conns, "rps")), n0(tps), ms(v(l, batch_conns, "p50_ms")),
			    ms(v(l, batch_conns, "p99_ms")), ms(v(l, batch_conns, "max_ms")),
			    v(l, batch_conns, "non2xx") + v(l, batch_conns, "errors"), n422(l, batch_conns),
			    ratio(tps, v("transfer", 64, "rps")), n0(dbl), ratio(tps, dbl)
		}
	}
	if (nh > 0) {
		printf "\n### GET /statement and GET /balance?at= on an account with 100 000 entries, %s connections\n\n", hist_conns
		printf "| read | reads/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx |\n|---|---:|---:|---:|---:|---:|---:|\n"
		for (i = 1; i <= nh; i++) {
			l = hlist[i]
			name = l == "statement30" ? "statement, 30 days (8228 entries)" : l == "statement36" ? "statement, 36 days (9874 entries)" : "balance?at=, a random second of the year"
			printf "| %s | %s | %s | %s | %s | %s | %s |\n", name, sprintf("%.1f", v(l, hist_conns, "rps")),
			    ms(v(l, hist_conns, "p50_ms")), ms(v(l, hist_conns, "p90_ms")), ms(v(l, hist_conns, "p99_ms")),
			    ms(v(l, hist_conns, "max_ms")), v(l, hist_conns, "non2xx") + v(l, hist_conns, "errors")
		}
	}
	if (has("hold_capture", sc) || has("refund", sc)) {
		printf "\n### Holds and refunds, %s connections\n\n", sc
		printf "Each pair is two requests of one wrk script: a hold and its capture by the recipient, or a transfer and its refund by the recipient. The ratio compares requests/s with POST /transfer at the same connections.\n\n"
		printf "| run | requests/s | pairs/s | p50 ms | p99 ms | max ms | non-2xx | POST /transfer/s | ratio |\n"
		printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
		nh = split("hold_capture:hold, then capture|refund:transfer, then refund", H, "|")
		for (j = 1; j <= nh; j++) {
			split(H[j], p, ":")
			if (!has(p[1], sc)) continue
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", p[2],
			    n0(v(p[1], sc, "rps")), n0(v(p[1], sc, "rps") / 2),
			    ms(v(p[1], sc, "p50_ms")), ms(v(p[1], sc, "p99_ms")),
			    ms(v(p[1], sc, "max_ms")),
			    v(p[1], sc, "non2xx") + v(p[1], sc, "errors"),
			    n0(v("transfer", sc, "rps")),
			    ratio(v(p[1], sc, "rps"), v("transfer", sc, "rps"))
		}
	}
	printf "\n### CPU split and row-lock waits during each run (CPU in %% of one core; %s cores = %s%%)\n\n", ENVIRON["ncpu"], 100 * ENVIRON["ncpu"]
	printf "Row-lock waits: InnoDB's count of waits for a row lock during the run (any row: users, fee sub-accounts, keys), per 1000 requests, and their mean length.\n\n"
	printf "| run | conns | req/s | nginx | payd | MariaDB | rest (wrk, dblimit, other) | idle | stack CPU µs per request | row-lock waits per 1000 | mean wait ms |\n"
	printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
	for (i = 1; i <= nr; i++) {
		split(order[i], lc, SUBSEP)
		if (lc[1] == "warm") continue
		stack = v(lc[1], lc[2], "cpu_nginx") + v(lc[1], lc[2], "cpu_app") + v(lc[1], lc[2], "cpu_db")
		waits = v(lc[1], lc[2], "lock_waits")
		reqs = v(lc[1], lc[2], "requests")
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", lc[1], lc[2],
		    n0(v(lc[1], lc[2], "rps")), v(lc[1], lc[2], "cpu_nginx"),
		    v(lc[1], lc[2], "cpu_app"), v(lc[1], lc[2], "cpu_db"),
		    v(lc[1], lc[2], "cpu_rest"), v(lc[1], lc[2], "cpu_idle"),
		    (v(lc[1], lc[2], "rps") > 0 ? sprintf("%.0f", stack / 100 * 1e6 / v(lc[1], lc[2], "rps")) : "-"),
		    (reqs > 0 ? sprintf("%.1f", 1000 * waits / reqs) : "-"),
		    (waits > 0 ? sprintf("%.2f", v(lc[1], lc[2], "lock_ms") / waits) : "-")
	}
	rss_max = 0
	printf "\n### Resources\n\n"
	printf "- payd worker RSS after the warm-up: %s; after all runs: %s.\n", rss_list(ENVIRON["rss_first"]), rss_list(ENVIRON["rss_last"])
	printf "- Deadlock or lock-wait retries logged by payd: %s; slow requests (over 1 s): %s.\n\n", ENVIRON["retries"], ENVIRON["slow"]

	printf "### Targets (issue 8)\n\n"
	printf "| target | figure | |\n|---|---|---|\n"
	missed = 0
	if (has("transfer", 64) && has("dblimit", 64)) {
		check("POST /transfer at 64 >= 0.8x the database limit",
		    v("transfer", 64, "rps") >= 0.8 * v("dblimit", 64, "rps"),
		    sprintf("%s / %s = %s", n0(v("transfer", 64, "rps")), n0(v("dblimit", 64, "rps")), ratio(v("transfer", 64, "rps"), v("dblimit", 64, "rps"))))
		check("POST /transfer at 64: p99 <= 4x the database limit's p99",
		    v("transfer", 64, "p99_ms") <= 4 * v("dblimit", 64, "p99_ms"),
		    sprintf("%s / %s ms = %s", ms(v("transfer", 64, "p99_ms")), ms(v("dblimit", 64, "p99_ms")), ratio(v("transfer", 64, "p99_ms"), v("dblimit", 64, "p99_ms"))))
	}
	if (has("transfer", 64))
		check("POST /transfer at 64: no non-2xx but 422", bad("transfer", 64) == 0,
		    sprintf("%d other, %d x 422", bad("transfer", 64), n422("transfer", 64)))
	if (has("balance", 64) && has("hello", 64))
		check("GET /balance at 64 >= 0.7x the HTTP + FastCGI limit",
		    v("balance", 64, "rps") >= 0.7 * v("hello", 64, "rps"),
		    sprintf("%s / %s = %s", n0(v("balance", 64, "rps")), n0(v("hello", 64, "rps")), ratio(v("balance", 64, "rps"), v("hello", 64, "rps"))))
	# Each batch size and mode: 4x POST /transfer, and 0.8x the same
	# batches (atomic) run straight on the database.
	split("100 1000", bsizes, " ")
	split("true false", bmodes, " ")
	for (bi = 1; bi <= 2; bi++) {
		for (bm = 1; bm <= 2; bm++) {
			bn = bsizes[bi]
			blab = "batch" bn "_" bmodes[bm]
			bkind = bmodes[bm] == "true" ? "atomic" : "each on its own"
			bgot = bn * v(blab, batch_conns, "rps")
			if (has(blab, batch_conns) && has("transfer", 64))
				check(sprintf("POST /transfers/batch of %d (%s) >= 4x POST /transfer at 64, in transfers/s", bn, bkind),
				    bgot >= 4 * v("transfer", 64, "rps"),
				    sprintf("%s / %s = %s", n0(bgot), n0(v("transfer", 64, "rps")), ratio(bgot, v("transfer", 64, "rps"))))
			if (has(blab, batch_conns) && has("payoutdb" bn, batch_conns))
				check(sprintf("POST /transfers/batch of %d (%s) >= 0.8x the database limit of the same batches", bn, bkind),
				    bgot >= 0.8 * v("payoutdb" bn, batch_conns, "rps"),
				    sprintf("%s / %s = %s", n0(bgot), n0(v("payoutdb" bn, batch_conns, "rps")), ratio(bgot, v("payoutdb" bn, batch_conns, "rps"))))
		}
	}
	if (has("statement36", hist_conns))
		check("GET /statement of ~10000 entries: p50 under 200 ms",
		    v("statement36", hist_conns, "p50_ms") < 200, sprintf("%s ms", ms(v("statement36", hist_conns, "p50_ms"))))
	if (has("hold_capture", 64) && has("transfer", 64))
		check("hold then capture at 64 >= 0.5x POST /transfer (requests/s)",
		    v("hold_capture", 64, "rps") >= 0.5 * v("transfer", 64, "rps"),
		    sprintf("%s / %s = %s", n0(v("hold_capture", 64, "rps")), n0(v("transfer", 64, "rps")), ratio(v("hold_capture", 64, "rps"), v("transfer", 64, "rps"))))
	if (has("refund", 64) && has("transfer", 64))
		check("transfer then refund at 64 >= 0.5x POST /transfer (requests/s)",
		    v("refund", 64, "rps") >= 0.5 * v("transfer", 64, "rps"),
		    sprintf("%s / %s = %s", n0(v("refund", 64, "rps")), n0(v("transfer", 64, "rps")), ratio(v("refund", 64, "rps"), v("transfer", 64, "rps"))))
	rss_max = 0
	rss_dummy = rss_list(ENVIRON["rss_last"])
	check("no worker over 8 MiB RSS", rss_max <= 8, sprintf("largest %.1f MiB", rss_max))
	check("no RSS growth across runs (under 1 MiB a worker)",
	    rss_sum(ENVIRON["rss_last"]) - rss_sum(ENVIRON["rss_first"]) <= 1024 * split(ENVIRON["rss_last"], tmp_, " "),
	    sprintf("%+.1f MiB over all workers", (rss_sum(ENVIRON["rss_last"]) - rss_sum(ENVIRON["rss_first"])) / 1024))
	if (missed > 0) printf "\nFAIL: %d target(s) missed.\n", missed
}
