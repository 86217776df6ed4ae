/* bench_decode.c: throughput and peak memory of the streaming JSON list decoder.
 * Writes a realistic PodList (managedFields, long annotations, status) to a temp file,
 * then re-executes itself to decode it in 64 KiB chunks, so that the peak RSS printed is
 * the decoder's alone and not the generator's. Usage: bench_decode [pods] [--keep]. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "npd/clock.h"
#include "npd/json.h"

static long
maxrss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* CPU seconds this process has used (user and system). */
static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void
write_pod(FILE *f, unsigned i)
{
	unsigned j;

	fprintf(f,
		"%s{\"metadata\":{\"name\":\"web-%08u-x7k2p\",\"generateName\":\"web-%08u-\","
		"\"namespace\":\"team-%u\",\"uid\":\"%08x-6a2d-4c4e-9d0b-1f7c2a9e8d11\","
		"\"resourceVersion\":\"%u\",\"creationTimestamp\":\"2024-03-11T09:14:22Z\","
		"\"labels\":{\"app\":\"web-%u\",\"tier\":\"frontend\",\"pod-template-hash\":"
		"\"6f9c7d8b5\"},\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":"
		"\"2024-03-11T09:14:20Z\",\"example.com/config\":\"",
		i ? "," : "", i, i, i % 50, i, 1000000 + i, i % 200);
	for (j = 0; j < 2; j++)
		fputs("c29tZSBsb25nIGNvbmZpZ3VyYXRpb24gYmxvYiB0aGF0IG5vYm9keSBuZWVkcw==", f);
	fprintf(
	    f,
	    "\"},\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
	    "\"name\":\"web-%u\",\"uid\":\"c1d2e3f4-0000-4aaa-bbbb-1234567890ab\","
	    "\"controller\":true,\"blockOwnerDeletion\":true}],\"managedFields\":[{\"manager\":"
	    "\"kube-controller-manager\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":"
	    "\"2024-03-11T09:14:22Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":"
	    "{\"f:generateName\":{},\"f:labels\":{\".\":{},\"f:app\":{},\"f:tier\":{}},"
	    "\"f:ownerReferences\":{\".\":{},\"k:{\\\"uid\\\":\\\"c1d2\\\"}\":{}}},\"f:spec\":"
	    "{\"f:containers\":{\"k:{\\\"name\\\":\\\"web\\\"}\":{\".\":{},\"f:image\":{},"
	    "\"f:ports\":{\".\":{},\"k:{\\\"containerPort\\\":8080}\":{\".\":{},"
	    "\"f:containerPort\":{},\"f:name\":{}}}}}}}},{\"manager\":\"kubelet\",\"operation\":"
	    "\"Update\",\"apiVersion\":\"v1\",\"time\":\"2024-03-11T09:14:31Z\",\"fieldsType\":"
	    "\"FieldsV1\",\"fieldsV1\":{\"f:status\":{\"f:conditions\":{},\"f:podIP\":{},"
	    "\"f:podIPs\":{}}},\"subresource\":\"status\"}]},",
	    i % 200);
	fprintf(
	    f,
	    "\"spec\":{\"volumes\":[{\"name\":\"kube-api-access\",\"projected\":{\"sources\":"
	    "[{\"serviceAccountToken\":{\"expirationSeconds\":3607,\"path\":\"token\"}}]}}],"
	    "\"containers\":[{\"name\":\"web\",\"image\":\"ghcr.io/example/web:1.4.2\",\"args\":"
	    "[\"--listen=:8080\"],\"ports\":[{\"name\":\"http\",\"containerPort\":8080,"
	    "\"protocol\":\"TCP\"},{\"name\":\"metrics\",\"containerPort\":9102}],\"env\":"
	    "[{\"name\":\"A\",\"value\":\"b\"}],\"resources\":{\"limits\":{\"cpu\":\"500m\"}}}],"
	    "\"nodeName\":\"node-%u\",\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\","
	    "\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300}]},"
	    "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":"
	    "\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":\"2024-03-11T09:14:31Z\"}],"
	    "\"hostIP\":\"10.240.0.%u\",\"podIP\":\"10.%u.%u.%u\",\"podIPs\":[{\"ip\":"
	    "\"10.%u.%u.%u\"},{\"ip\":\"fd00::%x:%x\"}],\"containerStatuses\":[{\"name\":\"web\","
	    "\"ready\":true,\"restartCount\":0,\"state\":{\"running\":{\"startedAt\":"
	    "\"2024-03-11T09:14:29Z\"}}}],\"qosClass\":\"Burstable\"}}",
	    i % 100, i % 250, 1 + (i >> 16) % 250, (i >> 8) & 255, i & 255, 1 + (i >> 16) % 250,
	    (i >> 8) & 255, i & 255, i >> 16, i & 0xffff);
}

static int
generate(const char *path, unsigned n)
{
	FILE *f = fopen(path, "w");
	unsigned i;

	if (!f)
		return -errno;
	fputs("{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":"
	      "\"99999999\"},\"items\":[",
	      f);
	for (i = 0; i < n; i++)
		write_pod(f, i);
	fputs("]}\n", f);
	return fclose(f) ? -errno : 0;
}

static void
count_pod(struct npd_event *ev, void *ctx)
{
	size_t *n = ctx;

	if (ev->obj.kind == NPD_KIND_POD && ev->obj.u.pod->n_ips == 2)
		(*n)++;
	npd_event_fini(ev);
}

static int
decode(const char *path)
{
	static char chunk[65536];
	struct npd_json_decoder *d;
	struct npd_diags diags;
	size_t pods = 0, total = 0, n;
	long rss0 = maxrss_kib(), rss1;
	uint64_t t0, t1;
	double c0, c1;
	FILE *f = fopen(path, "rb");
	int rc;

	if (!f) {
		perror(path);
		return 1;
	}
	npd_diags_init(&diags);
	d = npd_json_decoder_new(NPD_JSON_LIST, NPD_KIND_POD, count_pod, &pods, &diags);
	t0 = npd_now_ns();
	c0 = cpu_s();
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		total += n;
		if (npd_json_decoder_feed(d, chunk, n) < 0)
			break;
	}
	rc = npd_json_decoder_finish(d);
	t1 = npd_now_ns();
	c1 = cpu_s();
	rss1 = maxrss_kib();
	printf("decode: rc=%d pods=%zu events=%zu bad=%zu diags=%zu list_rv=%s\n", rc, pods,
	       npd_json_decoder_n_events(d), npd_json_decoder_n_bad(d), diags.n,
	       npd_json_decoder_list_rv(d) ? npd_json_decoder_list_rv(d) : "-");
	printf("decode: %.1f MB in %.3f s = %.1f MB/s, %.0f pods/s\n", total / 1e6,
	       (double)(t1 - t0) / 1e9, total / 1e6 / ((double)(t1 - t0) / 1e9),
	       pods / ((double)(t1 - t0) / 1e9));
	/* On a shared machine the wall time carries other processes' load; the CPU time is
	 * this decoder's cost on one core. */
	printf("decode: cpu %.3f s = %.1f MB/s, %.0f pods/s per CPU second\n", c1 - c0,
	       total / 1e6 / (c1 - c0), pods / (c1 - c0));
	printf("decode: peak RSS before %ld KiB, after %ld KiB (delta %ld KiB)\n", rss0, rss1,
	       rss1 - rss0);
	npd_json_decoder_free(d);
	npd_diags_fini(&diags);
	fclose(f);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static char decode_arg[] = "--decode";
	char path[] = "/tmp/npd-bench-podlist-XXXXXX";
	unsigned n = 25000;
	bool keep = false;
	struct stat st;
	int fd, i, rc;
	char *args[4];

	if (argc == 3 && !strcmp(argv[1], "--decode"))
		return decode(argv[2]);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--keep"))
			keep = true;
		else
			n = (unsigned)strtoul(argv[i], NULL, 10);
	}
	fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	rc = generate(path, n);
	if (rc < 0 || stat(path, &st) < 0) {
		fprintf(stderr, "generate: %s\n", strerror(-rc));
		unlink(path);
		return 1;
	}
	printf("generated %u pods, %.1f MB in %s (generator peak RSS %ld KiB)\n", n,
	       st.st_size / 1e6, path, maxrss_kib());
	fflush(stdout);
	/* A fresh process: its peak RSS is the decoder's, not the generator's. */
	args[0] = argv[0];
	args[1] = decode_arg;
	args[2] = path;
	args[3] = NULL;
	if (fork() == 0) {
		execv("/proc/self/exe", args);
		_exit(127);
	}
	wait(&rc);
	if (!keep)
		unlink(path);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : 1;
}
