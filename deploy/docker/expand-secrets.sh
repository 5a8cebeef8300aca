#!/bin/sh
# docker-compose.yml's stand-in for Kubernetes' Secret env vars. MURMUR_SECRETS lists NAME=file
# pairs; each NAME is read from /run/murmur-secrets/<file> (the secrets service generated them
# on the first `docker compose up`), exported, and every $(NAME) in the other variables replaced
# by it, as Kubernetes expands $(VAR) in env values. Then it runs the command.
set -eu
dir=/run/murmur-secrets
for pair in ${MURMUR_SECRETS:-}; do
  name=${pair%%=*}
  value=$(cat "$dir/${pair#*=}")
  export "$name=$value"
  for var in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*\$('"$name"').*/\1/p'); do
    export "$var=$(printenv "$var" | sed "s/\$($name)/$value/g")"
  done
done
unset MURMUR_SECRETS
exec "$@"
