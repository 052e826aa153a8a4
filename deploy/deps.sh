#!/bin/sh
# Installs the Debian packages the project needs, when any is missing.
# As root: apt-get install -y. Otherwise: prints the exact command, fails.
# Usage: deploy/deps.sh [extra-package ...]
#        deploy/deps.sh --list    prints the packages, one a line
set -eu
list=0
if [ "${1:-}" = --list ]; then
	list=1
	shift
fi
# wrk: make bench's load generator.
pkgs="build-essential pkg-config libfcgi-dev libmariadb-dev libjson-c-dev
libjwt-dev libcrypt-dev check libcurl4-openssl-dev libsystemd-dev
mariadb-server mariadb-client nginx curl procps psmisc
systemd socat logrotate galera-4 rsync iproute2 perl
clang libclang-rt-14-dev clang-tidy clang-format cppcheck valgrind libssl-dev
shellcheck wrk
chromium $*"
# The browser test needs node and npm; any install of them will do (a
# machine may carry its own Node.js build), else Debian's.
command -v npm >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"
if [ "$list" = 1 ]; then
	# shellcheck disable=SC2086 # $pkgs is a list of package names
	printf '%s\n' $pkgs
	exit 0
fi
missing=""
for p in $pkgs; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"ok installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "missing packages; run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Debian's maintainer scripts must not start the system's MariaDB or nginx:
# the project runs its own private instances.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086 # $missing is a list of package names
apt-get install -y -qq --no-install-recommends $missing
