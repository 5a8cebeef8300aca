#!/bin/sh
# Writes Redis's ACL file (redis-server --aclfile) from one password file per user in $1, to $2.
# The default user is off, so a client without credentials can run nothing; `probe` may only
# PING (the health checks); each service (its HTTP pods, its workers and, for feed, the
# rebuild) has its own user with every command but the @dangerous ones (FLUSHALL, FLUSHDB,
# CONFIG, DEBUG, KEYS, SHUTDOWN, MONITOR, CLIENT KILL, MODULE, ACL …), INFO given back (ioredis'
# ready check and BullMQ's version check run it), and publish/subscribe on murmur:* only.
# Passwords are stored as SHA-256 (#…), never in clear, in the file.
set -eu
secrets="$1"
out="$2"
hash() { printf '%s' "$(cat "$secrets/$1")" | sha256sum | cut -d' ' -f1; }
{
  echo 'user default off resetkeys resetchannels -@all'
  echo "user probe on #$(hash probe) resetkeys resetchannels -@all +ping"
  for service in user post feed leaderboard; do
    echo "user $service on #$(hash "$service") ~* resetchannels &murmur:* +@all -@dangerous +info"
  done
} >"$out.tmp"
mv "$out.tmp" "$out"
