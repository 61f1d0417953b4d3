# Tandem: `make run` and `make test` do all set-up on a fresh machine with Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# A WebSocket message past this many bytes is refused by daphne itself (close 1009) before
# Tandem reads it; the consumer's own limit is 16,000 characters, up to ~100 KB as JSON escapes.
# config.serve is daphne with read deadlines for slow clients: a request's line and headers must
# arrive within 10 s, its body within 30 s more, or it gets 408 and the connection is closed.
# A WebSocket handshake may wait 30 s for the application (daphne's default, 5 s, dropped clients
# queued behind a reconnect storm, and they came back for another round: bench/RESULTS.md).
# tests/conftest.py starts daphne with these same flags.
DAPHNE := $(BIN)/python -m config.serve --websocket-max-message-size 131072 --http-header-timeout 10 --http-body-timeout 30 --websocket_connect_timeout 30
# A Celery worker (config/celery.py); the prefork pool, the only one that enforces the task time limits.
CELERY_WORKER := $(BIN)/celery -A config worker --loglevel INFO

.PHONY: run dev screenshots run-cluster worker test lint format bench bench-chat bench-feed bench-scale bench-media bench-reach bench-search bench-channels bench-storm bench-summary clean lock schema

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# requirements*.txt are locked (every package, every hash) from requirements*.in by `make lock`:
# a fresh machine installs exactly the tree CI tested.
$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

# After changing a pin in requirements*.in: recompile the three locked files, each held to the one below it.
PIP_COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock: $(VENV)/.dev
	$(PIP_COMPILE) -o requirements.txt requirements.in
	$(PIP_COMPILE) -o requirements-dev.txt requirements-dev.in
	$(PIP_COMPILE) -o requirements-bench.txt requirements-bench.in

# The REST reference, docs/openapi.yaml, from the code (tests/test_docs.py fails while it is stale).
schema: $(VENV)/.runtime
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

# The product as people see it: DEBUG off (Tandem's own 404/500 pages), static files collected into
# staticfiles/ and served by WhiteNoise from daphne (compressed, as in production).
run: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --if-empty
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo "Tandem is at http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/)"
	$(DAPHNE) -b $(HOST) -p $(PORT) config.asgi:application

# For working on Tandem: DEBUG on (Django's debug pages, the browsable API), static files read
# straight from static/, and the server restarts when the code changes (daphne's runserver).
dev: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --if-empty
	@echo "Tandem (DEBUG on) is at http://$(HOST):$(PORT)/"
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

# PNGs of the main pages at 390x844 and 1280x800, light and dark, into screenshots/ (git-ignored):
# a live daphne on a fresh SQLite database seeded with the demo data, driven by Chromium.
screenshots: $(VENV)/.dev
	$(BIN)/python bench/screenshots.py --out screenshots

# Two workers on PORT and PORT+1 sharing PostgreSQL and Redis (DATABASE_URL, REDIS_URL required),
# and one Celery worker with beat for the background work (processing uploads, pruning).
run-cluster: $(VENV)/.runtime
	@test -n "$(DATABASE_URL)" -a -n "$(REDIS_URL)" || { echo "Set DATABASE_URL and REDIS_URL (see README)"; exit 2; }
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --if-empty
	@echo "Workers at http://$(HOST):$(PORT)/ and http://$(HOST):$$(($(PORT) + 1))/, and a Celery worker (Ctrl-C stops all)"
	@# The pids are kept by hand: in dash (Debian's sh) `$$(jobs -p)` runs in a subshell that has no
	@# jobs, and the processes started with & ignore SIGINT (no job control), so Ctrl-C alone left them.
	pids=; trap 'kill $$pids 2>/dev/null' INT TERM EXIT; \
	$(DAPHNE) -b $(HOST) -p $(PORT) config.asgi:application & pids="$$pids $$!"; \
	$(DAPHNE) -b $(HOST) -p $$(($(PORT) + 1)) config.asgi:application & pids="$$pids $$!"; \
	$(CELERY_WORKER) -B & pids="$$pids $$!"; \
	wait

# A Celery worker (config/celery.py) on REDIS_URL: processes uploads (MEDIA_PROCESSING=celery, the
# default with REDIS_URL) and, with embedded beat, runs prune_media hourly. Beat must run once per
# deployment: start further workers with BEAT=0.
BEAT ?= 1
worker: $(VENV)/.runtime
	@test -n "$(REDIS_URL)" || { echo "Set REDIS_URL (see README)"; exit 2; }
	$(CELERY_WORKER) $(if $(filter 1,$(BEAT)),-B)

# nginx in front of WORKERS daphne workers (ports PORT, PORT+1, ...), serving static files itself
# and cutting off slow clients (deploy/nginx/). Its conf, pid, logs and temporary files live in a
# fresh /tmp directory, removed on exit; nothing under /etc is read or touched. More than one
# worker needs DATABASE_URL and REDIS_URL: the in-memory channel layer does not cross processes.
# Uploaded files: the workers check who asks and nginx sends the bytes from MEDIA_ROOT
# (MEDIA_SERVE=accel); the workers trust the one X-Forwarded-For address nginx appends.
NGINX ?= /usr/sbin/nginx
NGINX_PORT ?= 8080
WORKERS ?= 1
MEDIA_ROOT ?= $(CURDIR)/media-files
.PHONY: run-nginx
run-nginx: $(VENV)/.runtime
	@test -x $(NGINX) || { echo "$(NGINX) is missing (apt-get install nginx)"; exit 2; }
	@test $(WORKERS) -le 1 -o \( -n "$(DATABASE_URL)" -a -n "$(REDIS_URL)" \) || \
		{ echo "WORKERS=$(WORKERS) needs DATABASE_URL and REDIS_URL (see README)"; exit 2; }
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --if-empty
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	mkdir -p $(MEDIA_ROOT)
	@# The pids are kept by hand, as in run-cluster (dash's $$(jobs -p) sees no jobs in a trap).
	@prefix=$$(mktemp -d /tmp/tandem-nginx.XXXXXX); \
	ports=$$(seq $(PORT) $$(($(PORT) + $(WORKERS) - 1))); \
	$(BIN)/python deploy/nginx/render.py --prefix $$prefix --listen $(HOST):$(NGINX_PORT) --media-root $(MEDIA_ROOT) \
		$$(for port in $$ports; do printf -- '--upstream $(HOST):%s ' $$port; done) >/dev/null || exit 1; \
	pids=; trap 'kill $$pids 2>/dev/null; wait; rm -rf $$prefix' INT TERM EXIT; \
	for port in $$ports; do \
		MEDIA_ROOT=$(MEDIA_ROOT) MEDIA_SERVE=accel TRUSTED_PROXY_COUNT=1 $(DAPHNE) -b $(HOST) -p $$port config.asgi:application & \
		pids="$$pids $$!"; \
	done; \
	$(NGINX) -p $$prefix -c $$prefix/nginx.conf -e $$prefix/error.log -g 'daemon off;' & pids="$$pids $$!"; \
	echo "Tandem is at http://$(HOST):$(NGINX_PORT)/ through nginx, $(WORKERS) worker(s) from port $(PORT) (logs: $$prefix)"; \
	wait

test: $(VENV)/.dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks: each compares against a baseline measured in the same run (bench/README.md); then
# issue 21's targets, met or missed, in one table (bench/summary.py reads what the benchmarks wrote).
bench: bench-chat bench-feed bench-scale bench-media bench-storm
	$(BIN)/python bench/summary.py

bench-summary: $(VENV)/.dev
	$(BIN)/python bench/summary.py

# 10,000 clients reconnecting and resuming at once after a worker restart, and the connect rate beside
# 9,000 open sockets against an empty worker's. BENCH_STORM_ARGS="--database both" adds PostgreSQL +
# Redis (a fresh database storm_bench on DATABASE_URL's server, and REDIS_URL); "--clients 2000" for a lighter run.
bench-storm: $(VENV)/.dev
	$(BIN)/python bench/storm_bench.py $(BENCH_STORM_ARGS)

# Ours and the Channels tutorial peer under one load client; ARGS=--quick for a smoke run.
bench-chat: $(VENV)/.dev
	$(BIN)/python bench/chat_bench.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles screenshots test-db.sqlite3*

# The feed benchmark (seeds bench/out/ databases once, then reuses them); BENCH_FEED_ARGS="--database both".
bench-feed: $(VENV)/.bench
	$(BIN)/python bench/feed_bench.py $(BENCH_FEED_ARGS)

# Search over HTTP on the feed benchmark's network (+ CJK posts): frequent, rare, missing and CJK terms,
# and post creation with the index against without. BENCH_SEARCH_ARGS="--sizes 100000,1000000 --database both".
bench-search: $(VENV)/.bench
	$(BIN)/python bench/search_bench.py $(BENCH_SEARCH_ARGS)

# 1,000 sockets on one worker over each channels-redis layer, and a stalled group member
# (needs redis-server; starts its own). ARGS=--quick for a smoke run.
bench-scale: $(VENV)/.dev
	$(BIN)/python bench/scale_bench.py $(ARGS)

# Photos: processing a 12-megapixel upload against Pillow's own decode + save, a feed page's
# thumbnail bytes against the originals, and a fetch through the worker's check against nginx alone
# (needs Debian's nginx). ARGS="--before main" also measures a worker of that git ref, same run.
# Read counting on the ranked feed (on vs off), folding a million reads, the reach endpoint at 10,000 reposts.
bench-reach: $(VENV)/.dev
	$(BIN)/python bench/reach_bench.py --database sqlite
	$(BIN)/python bench/reach_bench.py --database postgres

# One broadcast to 1,000 / 100,000 / 1,000,000 subscribers, live reach, and the conversation list with channels.
bench-channels: $(VENV)/.dev
	$(BIN)/python bench/channels_bench.py $(ARGS)

bench-media: $(VENV)/.dev
	$(BIN)/python bench/media_bench.py $(ARGS)

# Benchmark-only tools (the plot, progress bars), kept out of requirements-dev.txt so CI skips them.
$(VENV)/.bench: requirements-bench.txt $(VENV)/.dev
	$(BIN)/pip install --quiet --require-hashes -r requirements-bench.txt
	touch $@
