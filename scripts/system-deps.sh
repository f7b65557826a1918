#!/usr/bin/env bash
# Installs the Debian packages ccinspect needs when any is missing:
# chromium (browser tests), fonts-noto-cjk (Chinese in PDFs and screenshots),
# poppler-utils (pdftoppm, PDF checks), fail2ban (benchmark peer).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# dpkg, not `fc-list | grep -q`: under pipefail grep's early exit fails the pipeline.
[ "$(dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null)" = "install ok installed" ] || need+=(fonts-noto-cjk)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v fail2ban-regex >/dev/null 2>&1 || need+=(fail2ban)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "system-deps: missing ${need[*]} (run as root to install); continuing" >&2
  exit 0
fi
echo "system-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
