# Sourced by run.sh and replay.sh (from the top of the tree): the saved inputs
# of a fuzz target. corpus/NAME holds the seeds written for it (seeds.py); the
# policy target also starts from the policy fixtures themselves, read where
# they are, so that no file is stored twice (tests/fuzz/README.md, Seeds).

# files_in DIR: the inputs saved in DIR (none when it does not exist).
files_in() {
	if [ -d "$1" ]; then
		find "$1" -maxdepth 1 -type f ! -name README ! -name '.*'
	fi
}

# seed_files NAME: the seed inputs of fuzz_NAME, one path a line, sorted.
seed_files() {
	{
		files_in "tests/fuzz/corpus/$1"
		if [ "$1" = policy ]; then
			find tests/fixtures/policy tests/fixtures/cli -maxdepth 1 -type f -name '*.conf'
		fi
	} | LC_ALL=C sort
}

# regression_files NAME: the inputs that once broke fuzz_NAME.
regression_files() {
	files_in "tests/fuzz/regressions/$1" | LC_ALL=C sort
}
