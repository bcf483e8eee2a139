/* replay.c: a plain main() that feeds files (or every file in directories) to a libFuzzer target. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The fuzz target this program is linked with (tests/fuzz/fuzz_*.c). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs larger than this are refused: a corpus holds small files, and the bound keeps it so. */
#define REPLAY_MAX_INPUT (16u << 20)

/* Reads the whole file at path and runs the target on it. Returns 0 or -1 (with a message). */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	struct stat st;
	size_t n;
	int rc = -1;

	if (f == NULL) {
		fprintf(stderr, "replay: failed to open %s (%s)\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > REPLAY_MAX_INPUT) {
		fprintf(stderr, "replay: failed to size %s (too large or unreadable)\n", path);
		goto fail;
	}
	/* An exact-size allocation, so that ASan sees any read past the input. */
	buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (buf == NULL) {
		fprintf(stderr, "replay: failed to read %s (out of memory)\n", path);
		goto fail;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f) || n != (size_t)st.st_size) {
		fprintf(stderr, "replay: failed to read %s (short read)\n", path);
		goto fail;
	}
	LLVMFuzzerTestOneInput(buf, n);
	rc = 0;
fail:
	free(buf);
	fclose(f);
	return rc;
}

static int skip_name(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Replays every regular file directly inside dir, in name order; *count gets how many. */
static int replay_dir(const char *dir, unsigned *count)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, skip_name, alphasort);
	int rc = 0;

	if (n < 0) {
		fprintf(stderr, "replay: failed to list %s (%s)\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		if (rc == 0 && (size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name) <
		    sizeof path && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			rc = replay_file(path);
			if (rc == 0)
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		unsigned count = 0;
		int rc;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: failed to read %s (%s)\n", argv[i], strerror(errno));
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			rc = replay_dir(argv[i], &count);
		} else {
			rc = replay_file(argv[i]);
			count = rc == 0;
		}
		if (rc != 0)
			return 1;
		if (count == 0) {
			fprintf(stderr, "replay: no inputs in %s\n", argv[i]);
			return 1;
		}
		printf("replayed %u inputs from %s\n", count, argv[i]);
	}
	return 0;
}
