#!/usr/bin/env bash
# Deploys deploy/template.yaml as one stack, from a Lambda package already built on Amazon Linux
# 2023 (build/lambda/, made by scripts/build-lambda-al2023.sh). Used by both deploy workflows and
# for a manual deploy (docs/PRODUCTION_DEPLOYMENT.md).
#
# Usage: scripts/sam-deploy.sh STACK_NAME staging|production
#
# Parameters come from the environment, so no secret is ever on a command line that is echoed:
#   MODEL_1_KEY ... MODEL_9_KEY   -> Model1Key ... Model9Key (NoEcho); an unset or empty one keeps
#                                    the value the stack already has (CloudFormation UsePreviousValue)
#   QUOTA_HASH_KEY                -> QuotaHashKey (NoEcho), same rule
#   SAM_PARAMETERS                -> any other template parameters, one Name=Value per line
#                                    (e.g. Model1Provider=openai); secrets are refused here
#   AWS_REGION                    -> the region (default us-east-1)
# Steps: sam build (copies the prebuilt package: PP_LAMBDA_PREBUILT=1), sam package (uploads it to
# SAM's managed bucket), aws cloudformation deploy (which, unlike `sam deploy`, prints no parameter
# values). Exit: 0 deployed or nothing to change, 1 a step failed, 2 usage error.
set -euo pipefail

if [ $# -ne 2 ] || { [ "$2" != staging ] && [ "$2" != production ]; }; then
  echo "usage: $0 STACK_NAME staging|production" >&2
  exit 2
fi
stack=$1
environment=$2
region=${AWS_REGION:-us-east-1}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ ! -x build/lambda/bootstrap ] || [ ! -x build/lambda/pixelprompt ]; then
  echo "sam-deploy: build/lambda/ has no package; run scripts/build-lambda-al2023.sh in the AL2023 container first" >&2
  exit 1
fi

overrides=("Environment=$environment")
while IFS= read -r line; do
  line=${line%$'\r'}
  case "$line" in '' | '#'*) continue ;; esac
  name=${line%%=*}
  if [ "$name" = "$line" ] || ! [[ "$name" =~ ^[A-Za-z0-9]+$ ]]; then
    echo "sam-deploy: SAM_PARAMETERS line is not Name=Value: ${line:0:40}" >&2
    exit 1
  fi
  case "$name" in
    Model[1-9]Key | QuotaHashKey)
      echo "sam-deploy: $name is a secret; set it as a secret (MODEL_N_KEY / QUOTA_HASH_KEY), not in SAM_PARAMETERS" >&2
      exit 1
      ;;
    Environment) echo "sam-deploy: Environment comes from the command line" >&2; exit 1 ;;
  esac
  grep -q "^  $name:\$" deploy/template.yaml || { echo "sam-deploy: deploy/template.yaml has no parameter $name" >&2; exit 1; }
  overrides+=("$line")
done <<<"${SAM_PARAMETERS:-}"

secret_count=0
for n in 1 2 3 4 5 6 7 8 9; do
  var="MODEL_${n}_KEY"
  if [ -n "${!var:-}" ]; then
    overrides+=("Model${n}Key=${!var}")
    secret_count=$((secret_count + 1))
  fi
done
if [ -n "${QUOTA_HASH_KEY:-}" ]; then
  overrides+=("QuotaHashKey=$QUOTA_HASH_KEY")
  secret_count=$((secret_count + 1))
fi
echo "sam-deploy: stack $stack ($environment) in $region; ${#overrides[@]} parameter override(s), $secret_count of them secret (values not shown)"

PP_LAMBDA_PREBUILT=1 sam build --template-file deploy/template.yaml --region "$region"
sam package --template-file .aws-sam/build/template.yaml --output-template-file .aws-sam/packaged.yaml \
  --resolve-s3 --region "$region"
aws cloudformation deploy --template-file .aws-sam/packaged.yaml --stack-name "$stack" --region "$region" \
  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset \
  --tags Project=PixelPrompt "Environment=$environment" ManagedBy=SAM \
  --parameter-overrides "${overrides[@]}"
echo "sam-deploy: $stack is up to date"
