#!/bin/sh
# A build script that fails; $1 says which one.
echo "fail.sh: $1 exits with status 3 on purpose"
exit 3
