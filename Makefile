# Two entry points a fresh machine needs: `make demo` and `make test` (both install what they use).
PYTHON ?= python3
PIP := $(PYTHON) -m pip
DEBIAN_PACKAGES := erlang-nox elixir nginx postgresql prometheus openssh-server git ca-certificates
EXAMPLE := examples/shop

.PHONY: demo test install install-test system-packages

install:
	$(PIP) install -q -e .

install-test:
	$(PIP) install -q -e '.[test]'

# The integration tests start real Erlang nodes, nginx, PostgreSQL and sshd.
system-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# The example has findings on purpose: exit 1 is the expected answer, 2 would be a failure.
demo: install
	$(PYTHON) -m phoenix_ops check $(EXAMPLE) || [ $$? -eq 1 ]

test: system-packages install-test
	$(PYTHON) -m pytest -n auto tests
