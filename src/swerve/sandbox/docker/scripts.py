"""The POSIX shell snippets that run commands and file operations inside a container as its user."""

from __future__ import annotations

COMMAND_WRAPPER = r"""
cd -- "$1" 2>/dev/null || { echo swerve-nocwd >&2; exit 126; }
if [ -n "$3" ]; then
  [ -r "$3" ] || { echo swerve-nostdin >&2; exit 126; }
  exec 0<"$3"
  rm -f -- "$3"
fi
if [ -x /bin/bash ]; then /bin/bash -c "$2" 2>&1; else /bin/sh -c "$2" 2>&1; fi
c=$?
echo "swerve-exit:$c" >&2
exit "$c"
"""

# Runs an internal script ($1) with the remaining arguments; stdout and stderr stay apart.
OP_WRAPPER = r"""
s=$1
shift
/bin/sh -c "$s" swerve "$@"
echo "swerve-exit:$?" >&2
"""

# Exit codes of the file scripts are errno values (2 ENOENT, 13 EACCES, 20 ENOTDIR, 21 EISDIR).
READ = r"""
[ -e "$1" ] || exit 2
[ -d "$1" ] && exit 21
[ -r "$1" ] || exit 13
exec cat -- "$1"
"""

WRITE = r"""
if [ ! -d "$2" ]; then
  mkdir -p -- "$2" || { rm -f -- "$3"; [ -e "$2" ] && exit 20; exit 13; }
fi
[ -d "$1" ] && { rm -f -- "$3"; exit 21; }
cat -- "$3" > "$1" || { rm -f -- "$3"; exit 13; }
rm -f -- "$3"
"""

# Records "<type><link><name>\0" (type d: directory, f: regular file, o: other; both after
# following a symlink), an empty record, then the sizes of the f entries, one a line, in order.
LIST = r"""
cd -- "$1" 2>/dev/null || { [ -e "$1" ] || exit 2; [ -d "$1" ] || exit 20; exit 13; }
for f in .* *; do
  case $f in .|..) continue ;; esac
  [ -e "$f" ] || [ -L "$f" ] || continue
  t=o
  if [ -d "$f" ]; then t=d; elif [ -f "$f" ]; then t=f; fi
  l=0
  [ -L "$f" ] && l=1
  printf '%s%s%s\0' "$t" "$l" "$f"
done
printf '\0'
for f in .* *; do
  case $f in .|..) continue ;; esac
  [ -f "$f" ] && [ ! -d "$f" ] && printf '%s\0' "$f"
done | xargs -0 -r stat -L -c %s -- 2>/dev/null
exit 0
"""

REALPATH = r"""
p=$1
rest=
while :; do
  r=$(readlink -f -- "$p" 2>/dev/null) && [ -n "$r" ] && break
  if [ "$p" = / ]; then r=/; break; fi
  rest=/${p##*/}$rest
  p=${p%/*}
  [ -n "$p" ] || p=/
done
printf '%s' "$r$rest"
"""

# Stops, then kills, every process that carries the tag or descends from one that does.
KILL = r"""
tag="SWERVE_PROC_TAG=$1"
seen=" "
n=0
while [ "$n" -lt 50 ]; do
  n=$((n + 1))
  new=
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ "$p" = "$$" ] && continue
    case $seen in *" $p "*) continue ;; esac
    hit=
    if read -r st 2>/dev/null < "$d/stat"; then
      st=${st##*) }
      set -f
      set -- $st
      set +f
      case $seen in *" $2 "*) hit=1 ;; esac
    fi
    if [ -z "$hit" ] && tr '\0' '\n' < "$d/environ" 2>/dev/null | grep -qxF -- "$tag"; then hit=1; fi
    [ -n "$hit" ] && new="$new $p"
  done
  [ -z "$new" ] && break
  kill -STOP $new 2>/dev/null
  seen="$seen${new# } "
done
[ "$seen" = " " ] || kill -KILL $seen 2>/dev/null
exit 0
"""

# Uncommitted changes against HEAD, untracked files included, through a copy of the index.
# Exit 3: no such directory, 4: no git in the image, 5: not a git work tree.
GIT_DIFF = r"""
cd -- "$1" 2>/dev/null || exit 3
command -v git >/dev/null 2>&1 || exit 4
export GIT_OPTIONAL_LOCKS=0 GIT_TERMINAL_PROMPT=0 GIT_PAGER=cat
g() { git -c 'safe.directory=*' -c core.quotepath=false -c core.hooksPath=/dev/null -c core.fsmonitor=false -c core.pager=cat "$@"; }
[ "$(g rev-parse --is-inside-work-tree 2>/dev/null)" = true ] || exit 5
index=$(g rev-parse --git-path index) || exit 6
base=HEAD
g rev-parse --verify --quiet 'HEAD^{commit}' >/dev/null || base=$(g hash-object -t tree /dev/null)
tmp=$(mktemp -d 2>/dev/null) || { echo "mktemp failed" >&2; exit 6; }
trap 'rm -rf "$tmp"' EXIT
if [ -f "$index" ]; then cp -p -- "$index" "$tmp/index" || exit 6; fi
GIT_INDEX_FILE=$tmp/index g add --intent-to-add --all -- . >/dev/null || exit 6
GIT_INDEX_FILE=$tmp/index g diff --no-color --no-ext-diff --no-textconv --relative "$base" -- .
"""
