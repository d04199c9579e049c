/*
 * fab_builtin.h — private to fabric/: the text of fabric/sn10.cfg, compiled
 * into the program by embed.py at build time so that the built-in default
 * can never drift from the shipped file.
 */
#ifndef RDUMAP_FABRIC_FAB_BUILTIN_H
#define RDUMAP_FABRIC_FAB_BUILTIN_H

extern const char fab_builtin_sn10_cfg[];

#endif
