/*
 * dfg_internal.h — construction helpers shared by the files of mapper/.
 * Not part of the folder's face; nothing outside mapper/ includes it.
 */
#ifndef RDUMAP_MAPPER_DFG_INTERNAL_H
#define RDUMAP_MAPPER_DFG_INTERNAL_H

#include "mapper/dfg.h"

/* Grow an arena array of elem-sized items so it can take one more; returns
 * the (possibly moved) array, or NULL when out of memory. */
void *dfg_grow(arena *a, void *old, int n, int *cap, size_t elem);

int dfg_new_reg(dfg *g, pat_elem type, dfg_loop *level, const char *name);
dfg_op *dfg_new_op(dfg *g, dfg_opcode code, pat_elem type);
int dfg_block_add(dfg *g, dfg_block *b, dfg_stmt s);
int dfg_new_unit(dfg *g, dfg_unit_kind kind, const char *name);
int dfg_new_stream(dfg *g, dfg_stream_kind kind, int src, int dst, int reg, double width);

/* The buffer copies each memory needs (k+1 for a scratch tile read k
 * stages after its write in a meta-pipeline, else 1) and the loop (id)
 * whose iterations rotate them (-1).  Returns 0, or -1 out of memory. */
int dfg_buffer_depths(const dfg *g, int *depth, int *rotate);

/* Replicate every eligible outer map loop's pipelines (par.c). */
int dfg_parallelise(dfg *g, diag_list *d);
/* Does any node of the expression (everything under it included) satisfy
 * pred?  (lower.c) */
bool dfg_expr_any(const pat_expr *e, bool (*pred)(const pat_expr *, const void *), const void *ctx);
/* Does the expression contain a pattern (a loop of its own)?  (lower.c) */
bool dfg_has_pattern(const pat_expr *e);

/* For the passes that rewrite definitions before lowering (select_guard.c,
 * rsplit.c, interchange.c): a shallow copy of p whose definitions array is
 * its own, each entry p's definition until dfg_program_set replaces it;
 * NULL when out of memory. */
pat_program *dfg_program_copy(const pat_program *p, arena *a);
/* Replace q's definition k with a copy of it whose value is v and whose
 * let slots number n_slots; -1 when out of memory. */
int dfg_program_set(pat_program *q, arena *a, int k, pat_expr *v, int n_slots);

#endif
