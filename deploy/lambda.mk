# AWS Lambda packaging (included at the end of the root Makefile).
#
#   make lambda                 build/lambda/{bootstrap,pixelprompt,lib/} and build/lambda.zip
#   make lambda-check           the package check (scripts/check-lambda-package.sh)
#   make build-GenerateFunction what `sam build` runs for deploy/template.yaml (BuildMethod: makefile);
#                               copies the package into $(ARTIFACTS_DIR)
#
# A package meant for AWS must be built on Amazon Linux 2023 (scripts/build-lambda-al2023.sh, run in
# an AL2023 container by the deploy workflows): see docs/PRODUCTION_DEPLOYMENT.md. With
# PP_LAMBDA_PREBUILT=1, build-GenerateFunction only copies the package that script made, so
# `sam build` on the CI runner never rebuilds it against the runner's newer glibc.

LAMBDA_DIR ?= $(BUILD)/lambda
LAMBDA_ZIP ?= $(BUILD)/lambda.zip

.PHONY: lambda lambda-check build-GenerateFunction

lambda:
	@$(MAKE) --no-print-directory all
	scripts/package-lambda.sh $(BUILD)/pixelprompt $(LAMBDA_DIR) $(LAMBDA_ZIP)

lambda-check: lambda
	scripts/check-lambda-package.sh $(LAMBDA_ZIP)

build-GenerateFunction:
	@test -n "$(ARTIFACTS_DIR)" || { echo "build-GenerateFunction: ARTIFACTS_DIR is not set (run by sam build)" >&2; exit 2; }
	@if [ -n "$(PP_LAMBDA_PREBUILT)" ]; then \
	  test -x $(LAMBDA_DIR)/bootstrap || { echo "build-GenerateFunction: PP_LAMBDA_PREBUILT is set but $(LAMBDA_DIR) has no package; run scripts/build-lambda-al2023.sh first" >&2; exit 1; }; \
	else \
	  $(MAKE) --no-print-directory lambda; \
	fi
	mkdir -p "$(ARTIFACTS_DIR)"
	cp -R $(LAMBDA_DIR)/. "$(ARTIFACTS_DIR)/"
