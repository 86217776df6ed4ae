/* ipset_read.c: what ipset.c learns from libipset's listings (captured by its session,
 * never printed): from `list -terse`, our sets with their entry counts and whether they have
 * counters; from the plain `list NAME` of a set created with the counters extension, the
 * per-entry packet and byte counters. Each member line ("10.0.0.1 packets 5 bytes 300", "10.1.0.0/16
 * nomatch packets 0 bytes 0", "fd00::1,tcp:443 packets 1 bytes 60") becomes a struct
 * npd_set_entry built as the compiler builds them, so the caller finds the entry it follows
 * with npd_set_entry_cmp. Reads only; a set without counters or not ours is refused before
 * any entry is passed on. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/mem.h"
#include "ipset_int.h"

bool
npd_ipset_header_has_counters(const char *p)
{
	size_t n;

	while (*p && *p != '\n') {
		n = strcspn(p, " \n");
		if (n == 8 && !memcmp(p, "counters", 8))
			return true;
		p += n;
		if (*p == ' ')
			p++;
	}
	return false;
}

void
npd_ipset_parse_terse(const char *text, struct npd_owned *o)
{
	const char *line = text, *nl;
	char name[NPD_SET_NAMELEN] = "";
	size_t cap = o->n_sets;
	bool counters = false;

	while (line && *line) {
		nl = strchr(line, '\n');
		if (!strncmp(line, "Header: ", 8)) {
			counters = npd_ipset_header_has_counters(line + 8);
		} else if (!strncmp(line, "Name: ", 6)) {
			size_t n = (nl ? (size_t)(nl - line) : strlen(line)) - 6;

			if (n >= sizeof(name))
				n = sizeof(name) - 1;
			memcpy(name, line + 6, n);
			name[n] = '\0';
			counters = false;
		} else if (!strncmp(line, "Number of entries: ", 19) && name[0] &&
			   !strncmp(name, NPD_SET_PREFIX, strlen(NPD_SET_PREFIX))) {
			struct npd_owned_set *os;

			npd_xgrow(&o->sets, &cap, o->n_sets + 1, sizeof(*o->sets));
			os = &o->sets[o->n_sets++];
			memset(os, 0, sizeof(*os));
			snprintf(os->name, sizeof(os->name), "%s", name);
			os->n_entries = strtoul(line + 19, NULL, 10);
			os->counters = counters;
			name[0] = '\0';
		}
		line = nl ? nl + 1 : NULL;
	}
}

/* A member line is short: the longest element is an IPv6 address with ",sctp:65535", the
 * counters two 20-digit numbers. */
#define MEMBER_MAX 160

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_proto(const char *s, uint8_t *proto)
{
	static const struct {
		const char *name;
		uint8_t proto;
	} names[] = {{"tcp", 6}, {"udp", 17}, {"sctp", 132}};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name)) {
			*proto = names[i].proto;
			return 0;
		}
	return -EINVAL;
}

/* The element (first word of a member line) of a set of type t, in place. */
static int
parse_element(enum npd_set_type t, char *s, struct npd_set_entry *e)
{
	char *sep;
	uint64_t v;
	int rc;

	switch (t) {
	case NPD_SET_HASH_IP:
		return npd_addr_parse(s, &e->addr);
	case NPD_SET_HASH_NET:
		/* ipset leaves out a host prefix (/32, /128). */
		sep = strchr(s, '/');
		if (sep)
			*sep++ = '\0';
		rc = npd_addr_parse(s, &e->addr);
		if (rc)
			return rc;
		e->prefix = e->addr.family == AF_INET6 ? 128 : 32;
		if (!sep)
			return 0;
		if (parse_u64(sep, &v) || v < 1 || v > e->prefix)
			return -EINVAL;
		e->prefix = (uint8_t)v;
		return 0;
	case NPD_SET_HASH_IP_PORT:
		sep = strrchr(s, ',');
		if (!sep)
			return -EINVAL;
		*sep++ = '\0';
		rc = npd_addr_parse(s, &e->addr);
		if (rc)
			return rc;
		s = strchr(sep, ':');
		if (!s)
			return -EINVAL;
		*s++ = '\0';
		if (parse_proto(sep, &e->proto) || parse_u64(s, &v) || v > 65535)
			return -EINVAL;
		e->port = (uint16_t)v;
		return 0;
	}
	return -EINVAL;
}

/* One member line of len bytes: its entry and both counters, or -EINVAL. */
static int
parse_member(enum npd_set_type t, const char *line, size_t len, struct npd_set_entry *e,
	     uint64_t *packets, uint64_t *bytes)
{
	char buf[MEMBER_MAX], *save = NULL, *w, *v;
	bool has_packets = false, has_bytes = false;
	int rc;

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, line, len);
	buf[len] = '\0';
	memset(e, 0, sizeof(*e));
	w = strtok_r(buf, " ", &save);
	if (!w)
		return -EINVAL;
	rc = parse_element(t, w, e);
	if (rc)
		return -EINVAL;
	while ((w = strtok_r(NULL, " ", &save))) {
		if (!strcmp(w, "nomatch") && t == NPD_SET_HASH_NET) {
			e->nomatch = true;
			continue;
		}
		v = strtok_r(NULL, " ", &save);
		if (!v)
			return -EINVAL;
		if (!strcmp(w, "packets") && !parse_u64(v, packets))
			has_packets = true;
		else if (!strcmp(w, "bytes") && !parse_u64(v, bytes))
			has_bytes = true;
		else
			return -EINVAL;
	}
	return has_packets && has_bytes ? 0 : -EINVAL;
}

static int
type_of(const char *name, size_t len, enum npd_set_type *t)
{
	static const enum npd_set_type types[] = {NPD_SET_HASH_IP, NPD_SET_HASH_NET,
						  NPD_SET_HASH_IP_PORT};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		const char *n = npd_set_type_name(types[i]);

		if (strlen(n) == len && !memcmp(n, name, len)) {
			*t = types[i];
			return 0;
		}
	}
	return -EINVAL;
}

/* Walks the listing of set name: header lines, then "Members:" and one member a line. The
 * members are all parsed before fn hears of any, so a bad line passes nothing on. */
static int
parse_list(const char *name, const char *text, npd_set_counter_fn fn, void *ctx,
	   struct npd_err *err)
{
	const char *line = text, *nl, *members = NULL;
	enum npd_set_type t = NPD_SET_HASH_IP;
	bool typed = false, counters = false;
	struct npd_set_entry e;
	uint64_t packets = 0, bytes = 0; /* set by parse_member; gcc -O2 cannot see it */
	size_t len;
	int pass;

	for (; line && *line && !members; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		if (!strncmp(line, "Type: ", 6)) {
			if (type_of(line + 6, len - 6, &t))
				return npd_err_set(err, -EINVAL, "ipset: set %s has type %.*s",
						   name, (int)(len - 6), line + 6);
			typed = true;
		} else if (!strncmp(line, "Header: ", 8)) {
			counters = npd_ipset_header_has_counters(line + 8);
		} else if (!strncmp(line, "Members:", 8)) {
			members = nl ? nl + 1 : "";
		}
	}
	if (!typed || !members)
		return npd_err_set(err, -EIO, "ipset: cannot read the listing of %s", name);
	if (!counters)
		return npd_err_set(err, -EINVAL, "ipset: set %s has no counters", name);
	for (pass = 0; pass < 2; pass++)
		for (line = members; line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			len = nl ? (size_t)(nl - line) : strlen(line);
			if (!len)
				continue;
			if (parse_member(t, line, len, &e, &packets, &bytes))
				return npd_err_set(err, -EIO,
						   "ipset: %s: cannot read member [%.*s]", name,
						   (int)len, line);
			if (pass)
				fn(name, &e, packets, bytes, ctx);
		}
	return 0;
}

int
npd_ipset_read_counters(const char *name, npd_set_counter_fn fn, void *ctx, struct npd_err *err)
{
	struct npd_buf s, text;
	int rc;

	/* The name goes into a script line: one word of ours, nothing else. */
	if (strncmp(name, NPD_SET_PREFIX, strlen(NPD_SET_PREFIX)) ||
	    strlen(name) >= NPD_SET_NAMELEN || name[strcspn(name, " \t\n")])
		return npd_err_set(err, -EINVAL, "ipset: refusing to read set %s: not ours", name);
	npd_buf_init(&s);
	npd_buf_init(&text);
	npd_buf_printf(&s, "list %s\n", name);
	rc = npd_ipset_run(&s, &text, err);
	if (rc == 0)
		rc = parse_list(name, text.data ? text.data : "", fn, ctx, err);
	npd_buf_fini(&text);
	npd_buf_fini(&s);
	return rc;
}
