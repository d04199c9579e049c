/*
 * imp_opcode.c — THE opcode table of imported graphs.
 *
 * One table documents every opcode the importers accept, from both tools;
 * an opcode not listed here is an error that names it.  The row says what
 * the operation becomes on the fabric (a PCU stage, a VPMU port, an AGCU
 * stream, or an immediate folded into its consumers).  Lookup ignores
 * case, so Morpher's ADD and CGRA-ME's add are one row ("both").
 * docs/import.md reproduces this table: grep IMP_OPCODE_TABLE if you
 * change it.
 *
 * Sources: the opcodes of the Morpher sample graphs in shared/dfgs/morpher
 * (every one of them appears below) and of Morpher's DFG generator, and
 * CGRA-ME's OpGraph opcode set as written in its DOT files.
 */
#include "mapper/import/import.h"

#include <stddef.h>
#include <strings.h>

/* IMP_OPCODE_TABLE — keep docs/import.md in step. */
static const imp_opcode table[] = {
    /* arithmetic and logic: one PCU stage each */
    {"add",     IMP_COMPUTE, "both",    "integer add (Morpher also adds its CONST immediate)"},
    {"sub",     IMP_COMPUTE, "both",    "integer subtract"},
    {"mul",     IMP_COMPUTE, "both",    "integer multiply"},
    {"div",     IMP_COMPUTE, "both",    "integer divide"},
    {"rem",     IMP_COMPUTE, "Morpher", "integer remainder"},
    {"and",     IMP_COMPUTE, "both",    "bitwise and"},
    {"or",      IMP_COMPUTE, "both",    "bitwise or"},
    {"xor",     IMP_COMPUTE, "both",    "bitwise xor"},
    {"ls",      IMP_COMPUTE, "Morpher", "shift left"},
    {"rs",      IMP_COMPUTE, "Morpher", "logical shift right"},
    {"ars",     IMP_COMPUTE, "Morpher", "arithmetic shift right"},
    {"shl",     IMP_COMPUTE, "CGRA-ME", "shift left"},
    {"shr",     IMP_COMPUTE, "CGRA-ME", "shift right"},
    {"shra",    IMP_COMPUTE, "CGRA-ME", "arithmetic shift right"},
    {"ashr",    IMP_COMPUTE, "CGRA-ME", "arithmetic shift right (LLVM spelling)"},
    {"shrl",    IMP_COMPUTE, "CGRA-ME", "logical shift right"},
    {"lshr",    IMP_COMPUTE, "CGRA-ME", "logical shift right (LLVM spelling)"},
    {"mulu",    IMP_COMPUTE, "CGRA-ME", "unsigned multiply"},
    {"muls",    IMP_COMPUTE, "CGRA-ME", "signed multiply"},
    {"fadd",    IMP_COMPUTE, "CGRA-ME", "floating-point add"},
    {"fsub",    IMP_COMPUTE, "CGRA-ME", "floating-point subtract"},
    {"fmul",    IMP_COMPUTE, "CGRA-ME", "floating-point multiply"},
    {"fdiv",    IMP_COMPUTE, "CGRA-ME", "floating-point divide"},
    {"sqrt",    IMP_COMPUTE, "CGRA-ME", "square root"},
    {"fp2int",  IMP_COMPUTE, "CGRA-ME", "float to integer"},
    {"int2fp",  IMP_COMPUTE, "CGRA-ME", "integer to float"},
    {"sext",    IMP_COMPUTE, "both",    "sign extend"},
    {"zext",    IMP_COMPUTE, "CGRA-ME", "zero extend"},
    {"trunc",   IMP_COMPUTE, "CGRA-ME", "truncate"},
    {"nop",     IMP_COMPUTE, "CGRA-ME", "pass a value through (still a stage)"},
    {"gep",     IMP_COMPUTE, "CGRA-ME", "address arithmetic (getelementptr)"},
    /* comparisons, predicates and control */
    {"cmp",     IMP_COMPUTE, "both",    "compare equal (Morpher) / generic compare (CGRA-ME)"},
    {"clt",     IMP_COMPUTE, "Morpher", "compare less than"},
    {"cgt",     IMP_COMPUTE, "Morpher", "compare greater than"},
    {"icmp",    IMP_COMPUTE, "CGRA-ME", "integer compare"},
    {"br",      IMP_COMPUTE, "both",    "branch: resolves a predicate"},
    {"select",  IMP_COMPUTE, "both",    "choose one of two values by a predicate"},
    {"cmerge",  IMP_COMPUTE, "Morpher", "conditional merge of a predicated value"},
    {"phi",     IMP_COMPUTE, "both",    "merge of values from the preheader and the latch"},
    /* memory: ports of a VPMU */
    {"load",    IMP_LOAD,    "both",    "load a word"},
    {"loadh",   IMP_LOAD,    "Morpher", "load a half word"},
    {"loadb",   IMP_LOAD,    "Morpher", "load a byte"},
    {"oload",   IMP_LOAD,    "Morpher", "load of a live-in (outer-loop) value"},
    {"oloadh",  IMP_LOAD,    "Morpher", "live-in load, half word"},
    {"oloadb",  IMP_LOAD,    "Morpher", "live-in load, byte"},
    {"store",   IMP_STORE,   "both",    "store a word"},
    {"storeh",  IMP_STORE,   "Morpher", "store a half word"},
    {"storeb",  IMP_STORE,   "Morpher", "store a byte"},
    {"ostore",  IMP_STORE,   "Morpher", "store of a live-out (outer-loop) value"},
    {"ostoreh", IMP_STORE,   "Morpher", "live-out store, half word"},
    {"ostoreb", IMP_STORE,   "Morpher", "live-out store, byte"},
    /* immediates: no unit */
    {"movc",    IMP_IMMEDIATE, "Morpher", "move a constant (its CONST) into the loop"},
    {"const",   IMP_IMMEDIATE, "CGRA-ME", "a constant operand"},
    /* DRAM streams through AGCUs */
    {"input",       IMP_INPUT,  "CGRA-ME", "a value streamed in from memory"},
    {"input_pred",  IMP_INPUT,  "CGRA-ME", "a predicate streamed in"},
    {"output",      IMP_OUTPUT, "CGRA-ME", "a value streamed out to memory"},
    {"output_pred", IMP_OUTPUT, "CGRA-ME", "a predicate streamed out"},
};

const imp_opcode *imp_opcode_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcasecmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

int imp_opcode_count(void)
{
    return (int)(sizeof table / sizeof table[0]);
}

const imp_opcode *imp_opcode_at(int i)
{
    return i >= 0 && i < imp_opcode_count() ? &table[i] : NULL;
}

const char *imp_op_class_name(imp_op_class c)
{
    switch (c) {
    case IMP_COMPUTE: return "PCU stage";
    case IMP_LOAD: return "PMU read port";
    case IMP_STORE: return "PMU write port";
    case IMP_IMMEDIATE: return "immediate";
    case IMP_INPUT: return "AGCU load stream";
    case IMP_OUTPUT: return "AGCU store stream";
    }
    return "?";
}
