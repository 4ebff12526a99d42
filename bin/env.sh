# Sourced by bin/* scripts: the environment the cdktf CLI and OpenTofu run in.
# shellcheck shell=bash
VRC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export VRC_ROOT
export PATH="${VRC_ROOT}/node_modules/.bin:${VRC_ROOT}/.tools/bin:${PATH}"
# The cdktf CLI and CDKTF's Testing helpers run this binary instead of terraform.
export TERRAFORM_BINARY_NAME="${VRC_ROOT}/.tools/bin/tofu"
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export CHECKPOINT_DISABLE=1
export CDKTF_DISABLE_PLUGIN_CACHE_ENV=1
# A CLI config file that does not exist only makes OpenTofu print warnings.
if [[ -n "${TF_CLI_CONFIG_FILE:-}" && ! -e "${TF_CLI_CONFIG_FILE}" ]]; then
  unset TF_CLI_CONFIG_FILE
fi
