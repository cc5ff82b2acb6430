#!/usr/bin/env bash
# Check the website end to end: README.md against nbs/index.ipynb, then build _docs/ from the notebooks' saved
# outputs (tools/build_docs.py, no Quarto), then test it in Debian's chromium driven by Playwright (tests/browser).
#
#   tools/check_site.sh            # installs what is missing (apt chromium, pip smalldocs + playwright), then checks
#
# Screenshots of the home page and four lessons at 1400 px and 390 px, and of a search, land in build/screenshots/.
# The alt-text test is strict; KMEANS_ALT_PENDING=1 skips it while notebooks still lack `#| fig-alt:` directives
# (the build prints a note for each such notebook).
# Playwright's own browser download does not work on these machines: never run `playwright install`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${VIRTUAL_ENV:-}" ] && [ -f .venv/bin/activate ]; then
  . .venv/bin/activate
fi

chromium="${KMEANS_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "== installing chromium from Debian"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi

# the site builder and the browser client (the dev extra of pyproject.toml should hold them; this is a no-op then)
python -m pip install --quiet "smalldocs>=0.5.4,<0.6" "playwright>=1.49"

start=$SECONDS
echo "== checking README.md against nbs/index.ipynb"
python tools/make_readme.py --check

echo "== building the site into _docs/"
python tools/build_docs.py

echo "== testing the site in chromium"
KMEANS_SITE_STRICT=1 python -m pytest tests/browser -q -p no:cacheprovider "$@"

echo "== site checked in $((SECONDS - start))s; screenshots in build/screenshots/"
