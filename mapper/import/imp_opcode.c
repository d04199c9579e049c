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
 * Sources (each list read in the tool's own source; none of its code is
 * copied here, only the opcode names):
 *  - Morpher: the HyCUBEIns enum of Morpher's DFG generator
 *    (ecolab-nus/Morpher_DFG_Generator, include/morpherdfggen/common/dfgnode.h:
 *    NOP ADD SUB MUL SEXT DIV LS RS ARS AND OR XOR SELECT CMERGE CMP PCMP NCMP
 *    CLT BR CGT LOADCL MOVCL LOAD LOADH LOADB STORE STOREH STOREB JUMPL MOVC)
 *    and the opcodes its mapper's PEs accept (ecolab-nus/Morpher_CGRA_Mapper,
 *    src/PE.cpp, PE::getMEMIns: the same plus OLOADCL OLOAD OLOADH OLOADB
 *    OSTORE OSTOREH OSTOREB; the opcode encoding in its DFGNode.cpp adds
 *    ENDL).
 *    Every opcode of the 14 Morpher samples in tests/data/dfgs/morpher is
 *    among them.  `rem` is not in those lists; it is kept from this table's
 *    first version for graphs written by other Morpher passes.
 *  - CGRA-ME: the opcode names of its OpGraph, version 1.0
 *    (inc/CGRA/OpGraph.h, src/core/OpGraph.cpp: opcode_map: nop input output
 *    const trunc sext zext phi add sub mul div and or xor shl shra shrl gep
 *    icmp load store shr), and version 2 as published in 827391287/CGRA-ME
 *    (src/core/OpGraph.cpp: opcode_names: the same with ashr/lshr in place
 *    of shra/shrl/shr, plus input_pred output_pred mult br sqrt fadd fmul
 *    fdiv fp2int int2fp select, mulu_ and muls_ {full,half,quart}_{lo,hi},
 *    add_{full,half,quart}; inc/CGRA/OpGraph.h: the OpCode enum adds cmp).
 *    That copy's list also has addrcal, get_real, get_imag and combine,
 *    which version 1 does not; they are accepted too.  `mulu`, `muls` and
 *    `fsub` are in neither list; they are kept from this table's first
 *    version.  No CGRA-ME list found has `incr`: it stays an error that
 *    names it.
 * The DOT files' opcode strings are matched case-insensitively, as
 * CGRA-ME 2's opcode_from_string does.
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
    {"mult",    IMP_COMPUTE, "CGRA-ME", "integer multiply (CGRA-ME 2's second spelling of mul)"},
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
    {"mulu_full_lo",  IMP_COMPUTE, "CGRA-ME", "unsigned multiply, full width, low half of the product"},
    {"mulu_half_lo",  IMP_COMPUTE, "CGRA-ME", "unsigned multiply, half-width lanes, low halves"},
    {"mulu_quart_lo", IMP_COMPUTE, "CGRA-ME", "unsigned multiply, quarter-width lanes, low halves"},
    {"mulu_full_hi",  IMP_COMPUTE, "CGRA-ME", "unsigned multiply, full width, high half of the product"},
    {"mulu_half_hi",  IMP_COMPUTE, "CGRA-ME", "unsigned multiply, half-width lanes, high halves"},
    {"mulu_quart_hi", IMP_COMPUTE, "CGRA-ME", "unsigned multiply, quarter-width lanes, high halves"},
    {"muls_full_lo",  IMP_COMPUTE, "CGRA-ME", "signed multiply, full width, low half of the product"},
    {"muls_half_lo",  IMP_COMPUTE, "CGRA-ME", "signed multiply, half-width lanes, low halves"},
    {"muls_quart_lo", IMP_COMPUTE, "CGRA-ME", "signed multiply, quarter-width lanes, low halves"},
    {"muls_full_hi",  IMP_COMPUTE, "CGRA-ME", "signed multiply, full width, high half of the product"},
    {"muls_half_hi",  IMP_COMPUTE, "CGRA-ME", "signed multiply, half-width lanes, high halves"},
    {"muls_quart_hi", IMP_COMPUTE, "CGRA-ME", "signed multiply, quarter-width lanes, high halves"},
    {"add_full",  IMP_COMPUTE, "CGRA-ME", "add, full width"},
    {"add_half",  IMP_COMPUTE, "CGRA-ME", "add, half-width lanes"},
    {"add_quart", IMP_COMPUTE, "CGRA-ME", "add, quarter-width lanes"},
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
    {"nop",     IMP_COMPUTE, "both",    "pass a value through (still a stage)"},
    {"gep",     IMP_COMPUTE, "CGRA-ME", "address arithmetic (getelementptr)"},
    {"addrcal", IMP_COMPUTE, "CGRA-ME", "address calculation"},
    {"get_real", IMP_COMPUTE, "CGRA-ME", "real part of a complex pair"},
    {"get_imag", IMP_COMPUTE, "CGRA-ME", "imaginary part of a complex pair"},
    {"combine", IMP_COMPUTE, "CGRA-ME", "pack two values into a complex pair"},
    /* comparisons, predicates and control */
    {"cmp",     IMP_COMPUTE, "both",    "compare equal (Morpher) / generic compare (CGRA-ME)"},
    {"pcmp",    IMP_COMPUTE, "Morpher", "compare, result as a predicate"},
    {"ncmp",    IMP_COMPUTE, "Morpher", "compare not equal"},
    {"clt",     IMP_COMPUTE, "Morpher", "compare less than"},
    {"cgt",     IMP_COMPUTE, "Morpher", "compare greater than"},
    {"icmp",    IMP_COMPUTE, "CGRA-ME", "integer compare"},
    {"br",      IMP_COMPUTE, "both",    "branch: resolves a predicate"},
    {"jumpl",   IMP_COMPUTE, "Morpher", "loop jump: the loop-control step"},
    {"endl",    IMP_COMPUTE, "Morpher", "end of the loop: the loop-exit step"},
    {"select",  IMP_COMPUTE, "both",    "choose one of two values by a predicate"},
    {"cmerge",  IMP_COMPUTE, "Morpher", "conditional merge of a predicated value"},
    {"phi",     IMP_COMPUTE, "both",    "merge of values from the preheader and the latch"},
    {"movcl",   IMP_COMPUTE, "Morpher", "HyCUBE's second constant move; a stage, not folded"},
    /* memory: ports of a VPMU */
    {"load",    IMP_LOAD,    "both",    "load a word"},
    {"loadh",   IMP_LOAD,    "Morpher", "load a half word"},
    {"loadb",   IMP_LOAD,    "Morpher", "load a byte"},
    {"loadcl",  IMP_LOAD,    "Morpher", "HyCUBE's load of a constant-addressed word"},
    {"oload",   IMP_LOAD,    "Morpher", "load of a live-in (outer-loop) value"},
    {"oloadh",  IMP_LOAD,    "Morpher", "live-in load, half word"},
    {"oloadb",  IMP_LOAD,    "Morpher", "live-in load, byte"},
    {"oloadcl", IMP_LOAD,    "Morpher", "live-in load, constant-addressed"},
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
