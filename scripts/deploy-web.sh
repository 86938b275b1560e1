#!/usr/bin/env bash
# Publishes the web UI to the stack's bucket under web/ (CloudFront serves it), with config.js
# pointing the page at the stack's API, then invalidates CloudFront's copy.
#
# Usage: scripts/deploy-web.sh BUCKET DISTRIBUTION_ID API_ENDPOINT
# Exit: 0 published, 1 a step failed, 2 usage error. Needs the AWS CLI with credentials.
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 BUCKET DISTRIBUTION_ID API_ENDPOINT" >&2
  exit 2
fi
bucket=$1 distribution=$2 api=${3%/}
case "$api" in https://*) ;; *) echo "deploy-web: API_ENDPOINT must be an https:// URL" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Everything but config.js: short browser cache, CloudFront is invalidated below.
aws s3 sync "$root/web/" "s3://$bucket/web/" --delete --exclude config.js \
  --cache-control 'public, max-age=300' --only-show-errors
# The one line the page reads its API base from (see web/config.js).
printf 'window.PIXEL_PROMPT_CONFIG = {apiBase: "%s"};\n' "$api" >"$tmp/config.js"
aws s3 cp "$tmp/config.js" "s3://$bucket/web/config.js" --cache-control 'no-cache' \
  --content-type 'text/javascript; charset=utf-8' --only-show-errors
id=$(aws cloudfront create-invalidation --distribution-id "$distribution" --paths '/*' \
  --query 'Invalidation.Id' --output text)
echo "deploy-web: web/ published to s3://$bucket/web/ (API $api); CloudFront invalidation $id"
