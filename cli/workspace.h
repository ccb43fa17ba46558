/*
 * workspace.h - where an installed `concdemo check` builds.
 *
 * `concdemo check` builds the learner's program inside a concdemo tree
 * (its Makefile, sources and prebuilt library). In a checkout that tree is
 * the checkout. Installed, it is PREFIX/share/concdemo, which the learner
 * cannot write to; so check works in a workspace of the learner's own:
 * $XDG_CACHE_HOME/concdemo/tree-ID (else ~/.cache/...), whose sources are
 * links to the installed tree and whose build/ is a copy of the installed
 * build/ with its times kept, so that make finds the library up to date
 * and compiles only the learner's file. One workspace per installed tree
 * (ID names its path and the time of its library): a reinstall gets a new
 * one. Two checks preparing it at once take turns (a lock file).
 */
#ifndef CD_WORKSPACE_H
#define CD_WORKSPACE_H

#include <stddef.h>

/* 1 when check must not build in root itself: an installed tree (it has
 * the list `make install` wrote), or one it cannot write (its build/, or
 * root itself when there is no build/ yet). */
int cd_workspace_needed(const char *root);

/* The workspace for the read-only tree root, prepared if it is not yet:
 * 0 with its path in out; -1 with one line in why (no "concdemo: "). */
int cd_workspace_for(const char *root, char *out, size_t size, char *why,
                     size_t whylen);

#endif /* CD_WORKSPACE_H */
