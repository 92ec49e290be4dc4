.PHONY: setup test check build bench
setup:
	bash scripts/setup.sh
test:
	.venv/bin/python -m pytest
check:
	.venv/bin/course check
build:
	.venv/bin/course build --out build
bench:
	.venv/bin/python bench/bench_build.py
