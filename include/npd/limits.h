/* limits.h: the bounds netpold puts on what one object may hold, so that hostile or broken
 * input costs bounded memory and time. Above a bound the object is rejected (a diagnostic
 * of kind limit naming it, counted by the agent) and every other object is still decoded.
 * Each bound sits well above what the API server stores or a sane cluster uses; the README
 * lists them with the reason for each value. */
#ifndef NPD_LIMITS_H
#define NPD_LIMITS_H

/* Bytes of one object: one watch line, one item of a list page, one JSON document. etcd
 * refuses requests above 1.5 MiB by default, so no stored object is near this in JSON.
 * A library caller may change it (npd_json_decoder_set_max_bytes); netpold has no flag. */
#define NPD_LIMIT_OBJECT_BYTES (4u << 20)
#define NPD_LIMIT_OBJECT_BYTES_MIN 4096u
/* Nesting of JSON and YAML containers, the document's root counted as 1. The objects netpold
 * reads nest about 13 levels at most (a watch event of a Pod with managedFields). */
#define NPD_LIMIT_DEPTH 100
/* One string value (a label value, a name, a CIDR) that netpold keeps. */
#define NPD_LIMIT_STRING 4096
/* Labels of one object, and matchLabels entries of one selector. */
#define NPD_LIMIT_LABELS 4096
/* Rules of one policy direction (ingress or egress). */
#define NPD_LIMIT_RULES 1000
/* Peers (from/to entries) and ports of one rule. */
#define NPD_LIMIT_PEERS 1000
#define NPD_LIMIT_PORTS 1000
/* matchExpressions of one selector, values of one expression, except entries of one
 * ipBlock, policyTypes entries. */
#define NPD_LIMIT_EXPRESSIONS 1000
#define NPD_LIMIT_VALUES 1000
/* Containers of a pod and ports of one container; IPs of one pod. */
#define NPD_LIMIT_CONTAINERS 1000
#define NPD_LIMIT_POD_IPS 16
/* Members of one set a policy's peer becomes (a selector's pods cluster-wide, an ipBlock's
 * entries, a named port's pods). 2^20 is seven times a 150,000-pod cluster, which a
 * namespaceSelector {} matches whole. At that size the kernel's hash:ip set of IPv4
 * addresses takes 25 MiB (`ipset list` "Size in memory": 26,135,360 bytes, hashsize
 * 524,288) and each copy netpold keeps of its members 22 MiB (22 bytes a member). A policy
 * needing a bigger set isolates the pods it selects and admits nothing; netpold
 * --max-set-members lowers the bound. */
#define NPD_LIMIT_SET_MEMBERS (1u << 20)

#endif
