# The two commands a fresh machine needs:  make demo  and  make test.
VENV := .venv/bin

.PHONY: bootstrap test demo dev doctor lint format clean

bootstrap:  ## install/build everything that is missing (idempotent, cached)
	@bash deploy/bootstrap.sh

test: bootstrap  ## the whole suite against real Temporal, PostgreSQL, RabbitMQ and MinIO
	$(VENV)/pytest

demo: bootstrap  ## one full analysis on the embedded default (dev server, SQLite, local store)
	$(VENV)/ascension demo

dev: bootstrap  ## the embedded stack in the foreground
	$(VENV)/ascension dev

doctor:
	$(VENV)/ascension doctor

lint:
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy .

format:
	$(VENV)/ruff check --fix .
	$(VENV)/ruff format .

clean:  ## the embedded stack's data (not the component cache)
	rm -rf .data
