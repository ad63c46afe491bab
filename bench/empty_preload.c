/*
 * An empty shared object for `make bench`: the exec-loop rows preload it to
 * show what preloading any library at all costs on this machine, the floor
 * under the shim's own start-up cost (bench/README.md).
 */
int bench_empty_preload(void);

int bench_empty_preload(void)
{
	return 0;
}
