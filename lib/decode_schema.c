/* decode_schema.c: the schemas the builder prunes by: the fields netpold keeps of each
 * object, and caps on how many entries of each list it keeps. Data only. */
#include "decode_int.h"

/* Schemas: the fields netpold keeps, nothing more. Rule keys from/to are both accepted
 * in either direction by the builder; the converter reads only the right one. */
static const struct npd_schema s_scalar = {NPD_S_SCALAR, NULL, NULL, 0, false, NULL};
static const struct npd_schema s_scalars = {NPD_S_ARRAY,      NULL,  &s_scalar,
					    NPD_LIMIT_VALUES, false, "values"};
static const struct npd_schema s_labels = {NPD_S_ANYMAP,     NULL,  &s_scalar,
					   NPD_LIMIT_LABELS, false, "labels"};

static const struct npd_schema_field f_expr[] = {
    {"key", &s_scalar}, {"operator", &s_scalar}, {"values", &s_scalars}, {NULL, NULL}};
static const struct npd_schema s_expr = {NPD_S_MAP, f_expr, NULL, 0, false, NULL};
static const struct npd_schema s_exprs = {NPD_S_ARRAY,		 NULL,	&s_expr,
					  NPD_LIMIT_EXPRESSIONS, false, "expressions"};
static const struct npd_schema_field f_selector[] = {
    {"matchLabels", &s_labels}, {"matchExpressions", &s_exprs}, {NULL, NULL}};
static const struct npd_schema s_selector = {NPD_S_MAP, f_selector, NULL, 0, false, NULL};

static const struct npd_schema_field f_ipblock[] = {
    {"cidr", &s_scalar}, {"except", &s_scalars}, {NULL, NULL}};
static const struct npd_schema s_ipblock = {NPD_S_MAP, f_ipblock, NULL, 0, false, NULL};
static const struct npd_schema_field f_peer[] = {{"podSelector", &s_selector},
						 {"namespaceSelector", &s_selector},
						 {"ipBlock", &s_ipblock},
						 {NULL, NULL}};
static const struct npd_schema s_peer = {NPD_S_MAP, f_peer, NULL, 0, false, NULL};
static const struct npd_schema s_peers = {NPD_S_ARRAY,	   NULL,  &s_peer,
					  NPD_LIMIT_PEERS, false, "peers"};
static const struct npd_schema_field f_port[] = {
    {"protocol", &s_scalar}, {"port", &s_scalar}, {"endPort", &s_scalar}, {NULL, NULL}};
static const struct npd_schema s_port = {NPD_S_MAP, f_port, NULL, 0, false, NULL};
static const struct npd_schema s_ports = {NPD_S_ARRAY,	   NULL,  &s_port,
					  NPD_LIMIT_PORTS, false, "ports"};
static const struct npd_schema_field f_rule[] = {
    {"from", &s_peers}, {"to", &s_peers}, {"ports", &s_ports}, {NULL, NULL}};
static const struct npd_schema s_rule = {NPD_S_MAP, f_rule, NULL, 0, false, NULL};
static const struct npd_schema s_rules = {NPD_S_ARRAY,	   NULL,  &s_rule,
					  NPD_LIMIT_RULES, false, "rules"};

static const struct npd_schema_field f_cport[] = {
    {"name", &s_scalar}, {"containerPort", &s_scalar}, {"protocol", &s_scalar}, {NULL, NULL}};
static const struct npd_schema s_cport = {NPD_S_MAP, f_cport, NULL, 0, false, NULL};
static const struct npd_schema s_cports = {NPD_S_ARRAY,	    NULL,  &s_cport,
					   NPD_LIMIT_PORTS, false, "ports"};
static const struct npd_schema_field f_container[] = {{"ports", &s_cports}, {NULL, NULL}};
static const struct npd_schema s_container = {NPD_S_MAP, f_container, NULL, 0, false, NULL};
static const struct npd_schema s_containers = {NPD_S_ARRAY,	     NULL,  &s_container,
					       NPD_LIMIT_CONTAINERS, false, "containers"};

static const struct npd_schema_field f_spec[] = {
    {"nodeName", &s_scalar},	   {"hostNetwork", &s_scalar},
    {"containers", &s_containers}, {"podSelector", &s_selector},
    {"policyTypes", &s_scalars},   {"ingress", &s_rules},
    {"egress", &s_rules},	   {NULL, NULL}};
static const struct npd_schema s_spec = {NPD_S_MAP, f_spec, NULL, 0, false, NULL};

static const struct npd_schema_field f_podip[] = {{"ip", &s_scalar}, {NULL, NULL}};
static const struct npd_schema s_podip = {NPD_S_MAP, f_podip, NULL, 0, false, NULL};
static const struct npd_schema s_podips = {NPD_S_ARRAY,	      NULL,  &s_podip,
					   NPD_LIMIT_POD_IPS, false, "ips"};
static const struct npd_schema_field f_status[] = {
    {"phase", &s_scalar}, {"podIP", &s_scalar}, {"podIPs", &s_podips}, {NULL, NULL}};
static const struct npd_schema s_status = {NPD_S_MAP, f_status, NULL, 0, false, NULL};

static const struct npd_schema_field f_meta[] = {
    {"name", &s_scalar},       {"namespace", &s_scalar},
    {"uid", &s_scalar},	       {"resourceVersion", &s_scalar},
    {"labels", &s_labels},     {"continue", &s_scalar},
    {"generation", &s_scalar}, {NULL, NULL}};
static const struct npd_schema s_meta = {NPD_S_MAP, f_meta, NULL, 0, false, NULL};

static const struct npd_schema_field f_details[] = {{"retryAfterSeconds", &s_scalar}, {NULL, NULL}};
static const struct npd_schema s_details = {NPD_S_MAP, f_details, NULL, 0, false, NULL};

/* Status fields (code, reason, message, details) sit beside the object fields: an error body or a
 * watch ERROR event carries a Status where an object was expected. */
#define OBJECT_FIELDS                                                                              \
	{"apiVersion", &s_scalar}, {"kind", &s_scalar}, {"metadata", &s_meta}, {"spec", &s_spec},  \
	    {"status", &s_status}, {"code", &s_scalar}, {"reason", &s_scalar},                     \
	    {"message", &s_scalar},                                                                \
	{                                                                                          \
		"details", &s_details                                                              \
	}

static const struct npd_schema_field f_object[] = {OBJECT_FIELDS, {NULL, NULL}};
const struct npd_schema npd_schema_object = {NPD_S_MAP, f_object, NULL, 0, false, NULL};

static const struct npd_schema s_items_stream = {NPD_S_ARRAY, NULL, &npd_schema_object,
						 0,	      true, NULL};
static const struct npd_schema_field f_list[] = {
    OBJECT_FIELDS, {"items", &s_items_stream}, {NULL, NULL}};
const struct npd_schema npd_schema_list = {NPD_S_MAP, f_list, NULL, 0, false, NULL};

static const struct npd_schema_field f_watch[] = {
    {"type", &s_scalar}, {"object", &npd_schema_object}, {NULL, NULL}};
const struct npd_schema npd_schema_watch = {NPD_S_MAP, f_watch, NULL, 0, false, NULL};

static const struct npd_schema s_items_kept = {NPD_S_ARRAY, NULL,  &npd_schema_object,
					       0,	    false, NULL};
static const struct npd_schema_field f_yaml_doc[] = {
    OBJECT_FIELDS, {"items", &s_items_kept}, {NULL, NULL}};
const struct npd_schema npd_schema_yaml_doc = {NPD_S_MAP, f_yaml_doc, NULL, 0, false, NULL};
