#!/usr/bin/env bash
# Post-deployment health check of a Pixel Prompt API (local `pixelprompt serve` or the AWS stack).
#
# Usage: scripts/health-check.sh URL [--timeout SECONDS] [--require-enhance] [--allow-failed-job]
#   URL                 API base, e.g. http://127.0.0.1:8080 or the stack's ApiEndpoint output
#   --timeout S         how long the generated job may take to reach a terminal state (default 300)
#   --require-enhance   fail (not warn) when /enhance answers 503 ENHANCER_UNAVAILABLE
#   --allow-failed-job  accept a job that ends "failed" (every model failed) as a pass
#
# Checks, in order (each prints one PASS/WARN/FAIL line):
#   gallery   GET  /gallery/list       200 and a JSON object with a "galleries" array
#   generate  POST /generate           200 and a "jobId"
#   job       GET  /status/{jobId}     polled every 2 s until the job is terminal within --timeout:
#                                      completed or partial pass; failed fails (a deployment whose
#                                      every model fails is not healthy: keys, quotas or IAM are
#                                      wrong) unless --allow-failed-job; cancelled fails (nobody
#                                      cancelled it)
#   enhance   POST /enhance            200 with "short_prompt" and "long_prompt"; 503
#                                      ENHANCER_UNAVAILABLE (no enhancer configured) is a warning
#
# Exit status: 0 every check passed (warnings allowed), 1 a check failed, 2 usage error.
# Needs curl and python3. Requests carry X-Correlation-ID health-check-<time>-<pid> for the logs.
set -euo pipefail

usage() {
  sed -n '4,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

url=""
timeout=300
require_enhance=0
allow_failed=0
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout)
      [ $# -ge 2 ] || usage
      timeout=$2
      shift 2
      ;;
    --require-enhance) require_enhance=1; shift ;;
    --allow-failed-job) allow_failed=1; shift ;;
    -h | --help) usage ;;
    -*) echo "health-check: unknown option $1" >&2; usage ;;
    *)
      [ -z "$url" ] || usage
      url=$1
      shift
      ;;
  esac
done
[ -n "$url" ] || usage
case "$timeout" in '' | *[!0-9]*) echo "health-check: --timeout needs whole seconds" >&2; usage ;; esac
case "$url" in http://* | https://*) ;; *) echo "health-check: URL must start with http:// or https://" >&2; usage ;; esac
url=${url%/}

command -v curl >/dev/null || { echo "health-check: curl is required" >&2; exit 2; }
command -v python3 >/dev/null || { echo "health-check: python3 is required" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
correlation="health-check-$(date +%s)-$$"
failures=0
warnings=0

pass() { printf 'PASS  %-8s %s\n' "$1" "$2"; }
warn() { printf 'WARN  %-8s %s\n' "$1" "$2"; warnings=$((warnings + 1)); }
fail() { printf 'FAIL  %-8s %s\n' "$1" "$2"; failures=$((failures + 1)); }

# request METHOD PATH [JSON_BODY] -> sets $code (HTTP status, 000 when nothing answered) and
# writes the body to $tmp/body.
request() {
  local method=$1 path=$2 body=${3:-}
  local args=(-sS -o "$tmp/body" -w '%{http_code}' --connect-timeout 10 --max-time 35
    -H "X-Correlation-ID: $correlation" -H 'Accept: application/json' -X "$method")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  : >"$tmp/body"
  code=$(curl "${args[@]}" "$url$path" 2>"$tmp/curl.err") || code=000
  [ -n "$code" ] || code=000
}

# json EXPR: evaluates a Python expression over the parsed body `j`; prints the result, or nothing
# (and status 1) when the body is not JSON or the expression fails.
json() {
  python3 - "$tmp/body" "$1" <<'PY'
import json, sys
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        j = json.load(f)
    v = eval(sys.argv[2], {"__builtins__": {"isinstance": isinstance, "list": list, "dict": dict,
                                             "str": str, "len": len}}, {"j": j})
except Exception:
    sys.exit(1)
if v is None or v is False:
    sys.exit(1)
print(v if not isinstance(v, bool) else "yes")
PY
}

no_answer() { # explains a 000 status
  echo "no answer from $url ($(tr '\n' ' ' <"$tmp/curl.err" | cut -c1-160))"
}

snippet() { head -c 200 "$tmp/body" | tr '\n' ' '; }

echo "health-check: $url (correlation id $correlation)"

# ---- gallery -------------------------------------------------------------------------------------
request GET /gallery/list
if [ "$code" = 000 ]; then
  fail gallery "$(no_answer)"
elif [ "$code" != 200 ]; then
  fail gallery "GET /gallery/list answered HTTP $code: $(snippet)"
elif n=$(json 'len(j["galleries"]) if isinstance(j, dict) and isinstance(j.get("galleries"), list) else None'); then
  pass gallery "GET /gallery/list: 200, $n galleries"
else
  fail gallery "GET /gallery/list: 200 but not a JSON object with a galleries array: $(snippet)"
fi

# ---- generate + job ------------------------------------------------------------------------------
job_id=""
request POST /generate '{"prompt":"a small red lighthouse on a calm sea at dawn"}'
if [ "$code" = 000 ]; then
  fail generate "$(no_answer)"
elif [ "$code" != 200 ]; then
  err=$(json 'j.get("error")' || true)
  fail generate "POST /generate answered HTTP $code${err:+ ($err)}: $(snippet)"
elif job_id=$(json 'j.get("jobId") if isinstance(j, dict) and isinstance(j.get("jobId"), str) and j.get("jobId") else None'); then
  models=$(json 'j.get("totalModels")' || echo "?")
  pass generate "POST /generate: 200, job $job_id for $models model(s)"
else
  job_id=""
  fail generate "POST /generate: 200 but no jobId in the answer: $(snippet)"
fi

if [ -n "$job_id" ]; then
  deadline=$(($(date +%s) + timeout))
  status=""
  while :; do
    request GET "/status/$job_id"
    if [ "$code" = 200 ]; then
      status=$(json 'j.get("status")' || echo "")
      case "$status" in completed | partial | failed | cancelled) break ;; esac
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then break; fi
    sleep 2
  done
  counts=""
  if [ "$code" = 200 ]; then
    counts=$(json '"%s of %s model(s) completed, %s failed" % (j.get("completedModels"), j.get("totalModels"), j.get("failedModels"))' || true)
  fi
  case "$status" in
    completed) pass job "job $job_id completed: $counts" ;;
    partial) pass job "job $job_id ended partial (some models failed): $counts" ;;
    failed)
      if [ "$allow_failed" -eq 1 ]; then
        warn job "job $job_id failed (accepted by --allow-failed-job): $counts"
      else
        fail job "job $job_id failed, every model failed: $counts (check the provider keys, quotas and the function's logs)"
      fi
      ;;
    cancelled) fail job "job $job_id was cancelled, which nothing asked for: $counts" ;;
    *)
      if [ "$code" = 000 ]; then
        fail job "$(no_answer)"
      elif [ "$code" != 200 ]; then
        fail job "GET /status/$job_id answered HTTP $code: $(snippet)"
      else
        fail job "job $job_id still '${status:-?}' after ${timeout}s: $counts"
      fi
      ;;
  esac
else
  fail job "skipped: no job was created"
fi

# ---- enhance -------------------------------------------------------------------------------------
request POST /enhance '{"prompt":"a lighthouse"}'
if [ "$code" = 000 ]; then
  fail enhance "$(no_answer)"
elif [ "$code" = 200 ]; then
  if json 'isinstance(j, dict) and isinstance(j.get("short_prompt"), str) and isinstance(j.get("long_prompt"), str) and len(j["short_prompt"]) > 0' >/dev/null; then
    pass enhance "POST /enhance: 200 with short_prompt and long_prompt"
  else
    fail enhance "POST /enhance: 200 but short_prompt/long_prompt missing: $(snippet)"
  fi
elif [ "$code" = 503 ] && [ "$(json 'j.get("error")' || true)" = ENHANCER_UNAVAILABLE ]; then
  if [ "$require_enhance" -eq 1 ]; then
    fail enhance "POST /enhance: 503 ENHANCER_UNAVAILABLE (no enhancer configured; --require-enhance)"
  else
    warn enhance "POST /enhance: 503 ENHANCER_UNAVAILABLE: no enhancer configured (PromptModelIndex); not a failure"
  fi
else
  err=$(json 'j.get("error")' || true)
  fail enhance "POST /enhance answered HTTP $code${err:+ ($err)}: $(snippet)"
fi

if [ "$failures" -gt 0 ]; then
  echo "health-check: FAILED ($failures check(s) failed, $warnings warning(s))"
  exit 1
fi
echo "health-check: OK (gallery, generate, job and enhance passed; $warnings warning(s))"
