#!/usr/bin/env bash
# `swift test` with a deadline (TEST_DEADLINE seconds, default 1800; a whole run takes about 30 s
# after the build). A run that has not ended by then is a hang: this prints the tests that started
# and did not end, the test process's threads (their stacks when gdb is installed), kills it and
# exits 124, so that CI fails with the culprit named instead of running out its own time.
set -uo pipefail
deadline=${TEST_DEADLINE:-1800}
swift=${SWIFT:-swift}
log=$(mktemp /tmp/replenishd-test-output.XXXXXX)
trap 'rm -f "$log"' EXIT

"$swift" test "$@" > >(tee "$log") 2>&1 &
runner=$!
for ((waited = 0; waited < deadline; waited++)); do
  if ! kill -0 "$runner" 2>/dev/null; then
    wait "$runner"
    exit $?
  fi
  sleep 1
done

pids=$(pgrep -f 'PackageTests.xctest')
kill -STOP $pids 2>/dev/null  # its output would run on between ours
sleep 1
echo
echo "=== swift test still running after ${deadline} s: a hang"
echo "--- tests started and not ended"
python3 - "$log" <<'EOF'
import re, sys
started, ended = [], set()
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r'\S+ Test (".*?"|\S+\(\))(?: with \d+ test cases?)? (started|passed|failed|skipped)', line)
    if not m:
        continue
    if m.group(2) == "started":
        started.append(m.group(1))
    else:
        ended.add(m.group(1))
for name in started:
    if name not in ended:
        print("  " + name)
EOF
for pid in $pids; do
  echo "--- threads of the test process $pid running test code"
  if command -v gdb > /dev/null; then
    timeout 120 gdb -p "$pid" -batch -ex "thread apply all bt 20" 2>/dev/null | grep -E '^(Thread|#)' | cut -c1-240 |
      awk '/^Thread/ { if (block ~ /Tests\//) printf "%s", block; block = "" } { block = block $0 "\n" }
           END { if (block ~ /Tests\//) printf "%s", block }'
  else
    for task in /proc/"$pid"/task/*; do
      echo "  $(basename "$task") $(cat "$task"/comm) $(cat "$task"/wchan)"
    done
  fi
  echo "--- its children"
  ps -o pid,stat,etime,args --ppid "$pid" | cut -c1-200
  pkill -KILL -P "$pid"
  kill -KILL "$pid"
done
kill "$runner" 2>/dev/null
exit 124
