# Two entry points a fresh machine needs: `make demo` and `make test` (both install what they use,
# into a virtual environment in .venv/, so a Debian system Python is never touched).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEBIAN_PACKAGES := erlang-nox erlang-dev erlang-src elixir rebar3 nginx postgresql prometheus openssh-server \
	git ca-certificates chromium shellcheck systemd
EXAMPLE := examples/shop

.PHONY: demo test install install-test system-packages

# Debian ships venv support in a package of its own (python3-venv); install it when venv is refused.
$(PY):
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  rm -rf $(VENV); \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; \
	  $(PYTHON) -m venv $(VENV); }
	@$(PY) -m pip install -q --upgrade pip

install: $(PY)
	$(PY) -m pip install -q -e .

install-test: $(PY)
	$(PY) -m pip install -q -e '.[test]'

# The integration tests start real Erlang nodes, nginx, PostgreSQL, sshd and a headless browser.
system-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# The example has findings on purpose: exit 1 is the expected answer, 2 would be a failure.
demo: install
	$(PY) -m phoenix_ops check $(EXAMPLE) || [ $$? -eq 1 ]

# Layer contracts (import-linter), then every test.
test: system-packages install-test
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n auto tests
