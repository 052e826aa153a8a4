#!/bin/sh
# Runs one cluster.sh function against the cluster under DIR, e.g. from a
# test's fault command: sh tests/cluster/ctl.sh DIR cl_db_kill 2
set -u
. "$(dirname "$0")/cluster.sh"
cl_attach "$1"
shift
"$@"
