#!/bin/bash
# usage: mk.sh OUTPUT CMD...   runs CMD the way an eval script does (set -x trace, markers, exit code)
out=$1; shift
bash -c 'set -uxo pipefail
: ">>>>> Start Test Output"
'"$*"'
SWEBENCH_TEST_EXIT_CODE=$?
: ">>>>> End Test Output"
echo ">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE"' > "$out" 2>&1
