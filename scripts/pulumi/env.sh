# shellcheck shell=bash
# Source me (bash):  source scripts/pulumi/env.sh
#
# Makes the Pulumi engine usable in the current shell:
#   - runs scripts/pulumi/ensure-pulumi.sh (builds the engine once per machine,
#     ~10 min the first time; progress on stderr) and prepends its bin dir to
#     PATH. That dir holds pulumi, pulumi-language-nodejs and the dynamic
#     provider launcher pulumi-resource-pulumi-nodejs, so no
#     node_modules/@pulumi/pulumi PATH entry is needed;
#   - exports the PULUMI_* settings that fit a machine that can reach no
#     pulumi.com / GitHub: no update check, no plugin downloads.
# Existing values of the PULUMI_* variables below are kept.
#
# Not set here (per caller): PULUMI_BACKEND_URL (e.g. file://<dir>),
# PULUMI_CONFIG_PASSPHRASE, PULUMI_HOME.

_tenancy_pulumi_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if _tenancy_pulumi_bin=$("$_tenancy_pulumi_dir/ensure-pulumi.sh"); then
  case ":$PATH:" in
  *":$_tenancy_pulumi_bin:"*) ;;
  *) export PATH="$_tenancy_pulumi_bin:$PATH" ;;
  esac
  export TENANCY_PULUMI_BIN="$_tenancy_pulumi_bin"
  # Never ask pulumi.com / GitHub for a newer CLI.
  export PULUMI_SKIP_UPDATE_CHECK="${PULUMI_SKIP_UPDATE_CHECK:-true}"
  # Never download provider/language plugins on demand (it would fail here
  # anyway, after a long timeout); missing plugins become immediate errors.
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="${PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION:-true}"
  # Automation API (@pulumi/pulumi/automation): skip the `pulumi version`
  # probe on every workspace creation. Our CLI (v3.274.1) is newer than the
  # SDK's minimum, so the check would pass anyway.
  export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK="${PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK:-true}"
  unset _tenancy_pulumi_dir _tenancy_pulumi_bin
else
  unset _tenancy_pulumi_dir _tenancy_pulumi_bin
  echo "scripts/pulumi/env.sh: ensure-pulumi.sh failed; PATH unchanged" >&2
  return 1
fi
