/* simulate.c: netpolctl simulate. Loads manifests into a store and asks the simulator
 * (lib/sim.c) one question (--from/--to/--port: exit 0 allowed, 1 denied) or the whole
 * pod-by-pod matrix (--matrix), as a table for people or as TSV for the e2e lab, which
 * compares it against real packets. Usage and input errors exit 2. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl.h"
#include "npd/addr.h"
#include "npd/diag.h"
#include "npd/mem.h"
#include "npd/sim.h"
#include "npd/store.h"

struct port_spec {
	uint16_t port;
	enum npd_proto proto;
};

struct opts {
	const char *path;
	const char *from;
	const char *to;
	struct port_spec *ports;
	size_t n_ports;
	const char **from_ips;
	size_t n_from_ips;
	bool matrix;
	bool tsv;
	int family;
};

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: netpolctl simulate -f PATH --from NS/POD|IP --to NS/POD|IP --port N[/PROTO]\n"
	    "       netpolctl simulate -f PATH --matrix [--port N/PROTO ...] [--from-ip IP ...]\n"
	    "                          [--family 4|6] [--format table|tsv]\n"
	    "\n"
	    "  -f, --file PATH   manifests: a YAML file or a directory of them\n"
	    "  --from, --to      a pod as NS/NAME, or an IP (a pod's, or outside the cluster)\n"
	    "  --port N[/PROTO]  PROTO is tcp, udp or sctp (default tcp); matrix default 80/tcp\n"
	    "  --matrix          every selectable pod to every other, one table per port;\n"
	    "                    --from-ip adds a source row for an address outside the cluster\n"
	    "  --family 4|6      address family of the matrix (default 4)\n"
	    "  --format tsv      matrix as lines FROM_NAME FROM_IP TO_NAME TO_IP PORT PROTO\n"
	    "                    allow|deny (FROM_NAME is - for an address that is no pod)\n"
	    "\n"
	    "exit status: 0 allowed (or matrix printed), 1 denied, 2 usage or input error\n");
}

static int
parse_port(const char *s, struct port_spec *out)
{
	return npd_sim_port_parse(s, &out->port, &out->proto);
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	    {"file", required_argument, NULL, 'f'},   {"from", required_argument, NULL, 'F'},
	    {"to", required_argument, NULL, 'T'},     {"port", required_argument, NULL, 'p'},
	    {"matrix", no_argument, NULL, 'm'},	      {"from-ip", required_argument, NULL, 'I'},
	    {"format", required_argument, NULL, 'o'}, {"family", required_argument, NULL, '4'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	struct port_spec ps;
	int c, status;

	o->family = AF_INET;
	optind = 1;
	while ((c = ctl_next_opt(argc, argv, "f:h", longopts, usage, &status)) >= 0) {
		switch (c) {
		case 'f':
			o->path = optarg;
			break;
		case 'F':
			o->from = optarg;
			break;
		case 'T':
			o->to = optarg;
			break;
		case 'p':
			if (parse_port(optarg, &ps) != 0) {
				fprintf(stderr, "netpolctl simulate: bad port \"%s\"\n", optarg);
				return 2;
			}
			o->ports = npd_xrealloc(o->ports, (o->n_ports + 1) * sizeof(*o->ports));
			o->ports[o->n_ports++] = ps;
			break;
		case 'm':
			o->matrix = true;
			break;
		case 'I':
			o->from_ips =
			    npd_xrealloc(o->from_ips, (o->n_from_ips + 1) * sizeof(*o->from_ips));
			o->from_ips[o->n_from_ips++] = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "tsv") && strcmp(optarg, "table")) {
				fprintf(stderr, "netpolctl simulate: bad format \"%s\"\n", optarg);
				return 2;
			}
			o->tsv = !strcmp(optarg, "tsv");
			break;
		case '4':
			if (strcmp(optarg, "4") && strcmp(optarg, "6")) {
				fprintf(stderr, "netpolctl simulate: bad family \"%s\"\n", optarg);
				return 2;
			}
			o->family = optarg[0] == '6' ? AF_INET6 : AF_INET;
			break;
		}
	}
	if (c == CTL_OPT_EXIT)
		return status;
	if (!o->path || (!o->matrix && (!o->from || !o->to || o->n_ports != 1)) ||
	    (o->matrix && (o->from || o->to))) {
		usage(stderr);
		return 2;
	}
	return -1;
}

static int
resolve(const struct npd_store *s, const char *spec, struct npd_sim_endpoint *ep)
{
	int err = npd_sim_endpoint_parse(s, spec, ep);

	if (err == -ENOENT)
		fprintf(stderr, "netpolctl simulate: no pod %s in the manifests\n", spec);
	else if (err)
		fprintf(stderr, "netpolctl simulate: \"%s\" is neither NS/POD nor an IP\n", spec);
	return err;
}

static int
one(const struct npd_store *s, const struct opts *o)
{
	struct npd_sim_endpoint from, to;
	struct npd_sim_result r;
	int err;

	if (resolve(s, o->from, &from) || resolve(s, o->to, &to))
		return 2;
	err = npd_sim_run(s, &from, &to, o->ports[0].port, o->ports[0].proto, &r);
	if (err) {
		fprintf(stderr, "netpolctl simulate: %s and %s share no address family\n", o->from,
			o->to);
		return 2;
	}
	printf("%s\n", r.explanation);
	err = r.allowed ? 0 : 1;
	npd_sim_result_fini(&r);
	return err;
}

struct row {
	struct npd_sim_endpoint ep;
	char *label; /* ns/name, or the address */
	char addr[NPD_ADDRSTRLEN];
	bool is_pod;
};

/* Fixes the row's endpoint to the pod's address of family fam, so that the simulator
 * runs over that family. False when the pod has none. */
static bool
pod_addr(struct row *r, const struct npd_pod *pod, int fam)
{
	size_t i;

	for (i = 0; i < pod->n_ips; i++)
		if (pod->ips[i].family == fam) {
			r->ep.pod = pod;
			r->ep.has_addr = true;
			r->ep.addr = pod->ips[i];
			npd_addr_format(&pod->ips[i], r->addr);
			return true;
		}
	return false;
}

/* Selectable pods with an address of the family, sorted ns/name. */
static struct row *
collect_pods(const struct npd_store *s, int fam, size_t *n)
{
	const char *const *names;
	struct row *rows = NULL;
	size_t nn = 0, i, j, np, cap = 0;

	*n = 0;
	names = npd_store_ns_names(s, &nn);
	for (i = 0; i < nn; i++) {
		const struct npd_pod *const *pods = npd_store_pods_in(s, names[i], &np);

		for (j = 0; j < np; j++) {
			struct row r = {0};

			if (!npd_pod_is_selectable(pods[j]) || !pod_addr(&r, pods[j], fam))
				continue;
			r.label = npd_xasprintf("%s/%s", pods[j]->ns, pods[j]->name);
			r.is_pod = true;
			npd_xgrow(&rows, &cap, *n + 1, sizeof(*rows));
			rows[(*n)++] = r;
		}
	}
	return rows;
}

static int
matrix(const struct npd_store *s, const struct opts *o)
{
	struct port_spec def = {80, NPD_PROTO_TCP};
	const struct port_spec *ports = o->n_ports ? o->ports : &def;
	size_t n_ports = o->n_ports ? o->n_ports : 1;
	size_t n_dst = 0, n_src, cap, i, j, k, w = 4;
	struct row *rows;
	int ret = 0;

	rows = collect_pods(s, o->family, &n_dst);
	n_src = cap = n_dst;
	for (i = 0; i < o->n_from_ips; i++) {
		struct row r = {0};

		if (resolve(s, o->from_ips[i], &r.ep) || !r.ep.has_addr) {
			if (r.ep.pod)
				fprintf(stderr, "netpolctl simulate: --from-ip needs an IP\n");
			ret = 2;
			goto out;
		}
		if (r.ep.addr.family != o->family) {
			fprintf(stderr, "netpolctl simulate: %s is not of the matrix family\n",
				o->from_ips[i]);
			ret = 2;
			goto out;
		}
		npd_addr_format(&r.ep.addr, r.addr);
		r.label = r.ep.pod ? npd_xasprintf("%s/%s", r.ep.pod->ns, r.ep.pod->name)
				   : npd_xasprintf("ip %s", r.addr);
		r.is_pod = r.ep.pod != NULL;
		npd_xgrow(&rows, &cap, n_src + 1, sizeof(*rows));
		rows[n_src++] = r;
	}
	for (i = 0; i < n_src; i++)
		if (strlen(rows[i].label) > w)
			w = strlen(rows[i].label);
	if (o->tsv)
		printf("#FROM_NAME\tFROM_IP\tTO_NAME\tTO_IP\tPORT\tPROTO\tVERDICT\n");
	for (k = 0; k < n_ports; k++) {
		const char *pn = npd_proto_name(ports[k].proto);

		if (!o->tsv) {
			printf("%sport %u/%s (IPv%c): rows are sources, columns destinations "
			       "(column N is pod N); ok = allowed, -- = denied, . = same pod\n",
			       k ? "\n" : "", ports[k].port, pn, o->family == AF_INET ? '4' : '6');
			printf("%*s", (int)(w + 4), "");
			for (j = 0; j < n_dst; j++)
				printf(" %3zu", j + 1);
			printf("\n");
		}
		for (i = 0; i < n_src; i++) {
			if (!o->tsv) {
				if (i < n_dst)
					printf("%3zu %-*s", i + 1, (int)w, rows[i].label);
				else
					printf("  * %-*s", (int)w, rows[i].label);
			}
			for (j = 0; j < n_dst; j++) {
				struct npd_sim_result r;
				bool self = rows[i].ep.pod == rows[j].ep.pod;

				/* A pod reaching its own IP never leaves it: not filtered. */
				if (self) {
					if (!o->tsv)
						printf(" %3s", ".");
					continue;
				}
				if (npd_sim_run(s, &rows[i].ep, &rows[j].ep, ports[k].port,
						ports[k].proto, &r) != 0) {
					ret = 2;
					goto out;
				}
				if (o->tsv)
					printf("%s\t%s\t%s\t%s\t%u\t%s\t%s\n",
					       rows[i].is_pod ? rows[i].label : "-", rows[i].addr,
					       rows[j].label, rows[j].addr, ports[k].port, pn,
					       r.allowed ? "allow" : "deny");
				else
					printf(" %3s", r.allowed ? "ok" : "--");
				npd_sim_result_fini(&r);
			}
			if (!o->tsv)
				printf("\n");
		}
	}
out:
	for (i = 0; i < n_src; i++)
		free(rows[i].label);
	free(rows);
	return ret;
}

int
ctl_simulate_main(int argc, char **argv)
{
	struct opts o = {0};
	struct npd_store *s = NULL;
	int ret;

	ret = parse_opts(argc, argv, &o);
	if (ret >= 0)
		goto out;
	s = npd_store_new();
	ret = ctl_load(o.path, s);
	if (ret)
		goto out;
	ret = o.matrix ? matrix(s, &o) : one(s, &o);
out:
	npd_store_free(s);
	free(o.from_ips);
	free(o.ports);
	return ret;
}
