# payd's database rights, from deploy/grants.sql (read its top comment
# first: how a new routine or table gets its rights). Sourced by
# deploy/install.sh and tests/lib/stack.sh; POSIX sh.
#
#   grants_sql PART DB APP     the part (owner or app) of grants.sql, filled
#   grants_apply RUN DB APP    the owner part, then MIGRATE (a command, run
#                              as given), then the app part; the app's
#                              account narrowed to exactly those rights
#
# RUN is a command (or function) that runs SQL from its standard input as a privileged
# account. APP is the app's account, quoted: 'payd'@'localhost'.
# shellcheck shell=sh

# The caller sets GRANTS_SQL to the path of deploy/grants.sql.
grants_file=${GRANTS_SQL:?GRANTS_SQL: the path of deploy/grants.sql}

grants_sql() { # part db app
	sed -n "/^-- @@PART $1@@/,/^-- @@PART /p" "$grants_file" |
	    sed -e "s|@@DB@@|$2|g" -e "s|@@APP@@|$3|g"
}

# The app's grants as SHOW GRANTS prints them, its name taken out, sorted.
grants_show() { # run account
	# shellcheck disable=SC2016 # backquotes of SQL names, not commands
	printf 'SHOW GRANTS FOR %s;\n' "$2" | "$1" |
	    sed -e 's/ TO `[^`]*`@`[^`]*`.*$//' | sort
}

# A locked probe account is given the app part, and the app's own grants
# must read the same; else the app's are revoked and given again (only
# when they were wider: an older release's DML on every table, or a hand
# widening). Prints "narrowed" then.
grants_narrow() { # run db app
	host=$(printf '%s' "$3" | sed -n "s/^'[^']*'@'\([^']*\)'$/\1/p")
	probe="'payd_grants_probe'@'$host'"
	{
		printf 'DROP USER IF EXISTS %s;\n' "$probe"
		printf 'CREATE USER %s ACCOUNT LOCK;\n' "$probe"
		grants_sql app "$2" "$probe"
	} | "$1" || return 1
	want=$(grants_show "$1" "$probe" | grep -v '^GRANT USAGE ON')
	have=$(grants_show "$1" "$3" | grep -v '^GRANT USAGE ON')
	printf 'DROP USER %s;\n' "$probe" | "$1" || return 1
	if [ "$want" != "$have" ] || printf 'SHOW GRANTS FOR %s;\n' "$3" |
	    "$1" | grep -q 'WITH GRANT OPTION'; then
		{
			printf 'REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s;\n' \
			    "$3"
			grants_sql app "$2" "$3"
		} | "$1" || return 1
		echo narrowed
	fi
}

grants_apply() { # run db app migrate...
	run=$1
	db=$2
	app=$3
	shift 3
	grants_sql owner "$db" "$app" | "$run" || return 1
	# The app may call the routines from the start; its table rights
	# follow the tables.
	# shellcheck disable=SC2016 # backquotes of SQL names, not commands
	printf 'GRANT EXECUTE ON `%s`.* TO %s;\n' "$db" "$app" | "$run" ||
	    return 1
	"$@" || return 1
	grants_sql app "$db" "$app" | "$run" || return 1
	grants_narrow "$run" "$db" "$app"
}
