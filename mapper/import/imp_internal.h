/*
 * imp_internal.h — shared by the files of mapper/import/ only.
 *
 * The two readers fill an imp_graph through imp_graph_add_node/edge and
 * leave the checks that do not depend on the format (edges into
 * immediates, combinational loops) to imp_graph_check.
 */
#ifndef RDUMAP_MAPPER_IMP_INTERNAL_H
#define RDUMAP_MAPPER_IMP_INTERNAL_H

#include "mapper/import/import.h"

/* Append a node or an edge; the arrays grow in the graph's arena.
 * Return the new index, or -1 when out of memory. */
int imp_graph_add_node(imp_graph *g, const imp_node *n);
int imp_graph_add_edge(imp_graph *g, const imp_edge *e);

/* Index of the node named `name`, or -1. */
int imp_graph_find(const imp_graph *g, const char *name);

/* Format-independent checks: edges into immediates, cycles made only of
 * edges with distance 0 (a combinational loop).  Returns 0 or -1. */
int imp_graph_check(const imp_graph *g, diag_list *d);

/* The readers.  `file` must outlive d (see imp_load). */
int imp_read_morpher(imp_graph *g, const char *file, const char *text, const imp_read_opts *ro, diag_list *d);
int imp_read_dot(imp_graph *g, const char *file, const char *text, const imp_read_opts *ro, diag_list *d);

/* Monotonic wall clock, seconds. */
double imp_now(void);

#endif
