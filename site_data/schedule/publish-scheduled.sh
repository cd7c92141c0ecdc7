#!/usr/bin/env bash
# A scheduled `make publish`: one at a time, everything into a log file, and an exit code a
# scheduler (systemd, cron, CI) can alert on.  Usage: publish-scheduled.sh CONFIG
#
# Exit codes:  0  published (or nothing changed: a rerun is a no-op)
#              1  verify failed: the built site does not match its data (nothing went live)
#              2  the publish stopped: config, source (HTTP) fetch, validation, removals,
#                 leak scan or snapshot; nothing went live; the log says why and what to do
#             75  skipped: another publish holds the lock (nothing done; the next run retries)
#
# Environment (all optional): GONGSHI_REPO (the checkout; default: two folders up),
# GONGSHI_STATE_DIR (default /var/lib/gongshi) holding publish.log, publish.lock and
# summary.json, or each on its own: GONGSHI_LOG, GONGSHI_LOCK, GONGSHI_SUMMARY; MAKE.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 CONFIG" >&2
  exit 2
fi
CONFIG=$(realpath "$1")
REPO=${GONGSHI_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
STATE=${GONGSHI_STATE_DIR:-/var/lib/gongshi}
LOG=${GONGSHI_LOG:-$STATE/publish.log}
LOCK=${GONGSHI_LOCK:-$STATE/publish.lock}
SUMMARY=${GONGSHI_SUMMARY:-$STATE/summary.json}
MAKE=${MAKE:-make}
BUSY=75

mkdir -p "$(dirname "$LOG")" "$(dirname "$LOCK")" "$(dirname "$SUMMARY")"
stamp() { date '+%Y-%m-%dT%H:%M:%S%z'; }

# The publish also locks its work dir; this lock keeps a slow run and the next timer tick
# from queueing up, and tells the scheduler "skipped" rather than "failed".
exec 9>>"$LOCK"
if ! flock --nonblock 9; then
  echo "$(stamp) skipped: another publish holds $LOCK" >>"$LOG"
  exit $BUSY
fi

echo "$(stamp) publish $CONFIG" >>"$LOG"
rm -f "$SUMMARY"
"$MAKE" -C "$REPO" --no-print-directory publish CONFIG="$CONFIG" \
  PUBLISH_FLAGS="--summary $SUMMARY" >>"$LOG" 2>&1
status=$?
if [ $status -ne 0 ]; then
  # make turns every failure into 2; the publish's own code is in its summary.
  code=$(grep -o '"exit_code": *[0-9]*' "$SUMMARY" 2>/dev/null | grep -o '[0-9]*$')
  status=${code:-$status}
  [ "$status" -eq 0 ] && status=2
fi
echo "$(stamp) exit $status" >>"$LOG"
exit $status
