#!/usr/bin/env bash
# tests/preload/git_work.sh DIR — init, add, commit, log and fsck a repository in DIR (run by preload_test.sh).
# Fixed names and dates make every hash reproducible, so two runs print the same bytes.
set -euo pipefail
cd "$1"
export GIT_AUTHOR_NAME=nostd GIT_AUTHOR_EMAIL=nostd@example.invalid GIT_COMMITTER_NAME=nostd
export GIT_COMMITTER_EMAIL=nostd@example.invalid GIT_AUTHOR_DATE='2026-01-01T00:00:00Z'
export GIT_COMMITTER_DATE='2026-01-01T00:00:00Z' GIT_CONFIG_NOSYSTEM=1 HOME="$1"
git init -q -b main repo
cd repo
for round in 1 2 3; do
  mkdir -p dir0 dir1 dir2 dir3 dir4 dir5 dir6
  # One awk process writes the 60 files of a round (a process per file made the test slow on a loaded machine).
  awk -v round="$round" 'BEGIN { for (i = 1; i <= 60; i++) { f = "dir" (i % 7) "/file" i ".txt";
    for (n = i; n <= i * round * 40; n++) print n > f; close(f) } }'
  git add -A
  git commit -q -m "round $round"
done
git log --stat --format='%H %s' -n 2
git rev-list --all --objects | wc -l
git gc -q
git fsck --full --strict && echo "fsck ok"
git count-objects -v | grep -v size
