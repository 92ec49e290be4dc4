.PHONY: setup test check build bench bench-scorm bench-lti bench-startup
setup:
	bash scripts/setup.sh
test:
	.venv/bin/python -m pytest
check:
	.venv/bin/course check
build:
	.venv/bin/course build --out build
bench: bench-scorm bench-lti bench-startup
	.venv/bin/python bench/bench_build.py
bench-scorm:
	.venv/bin/python bench/bench_scorm.py
bench-lti:
	.venv/bin/python bench/bench_lti.py
bench-startup:
	.venv/bin/python bench/bench_startup.py
