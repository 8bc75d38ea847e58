/* Libraries that imzala-cli loads when it first calls them (issue 12).
 *
 * imzala-cli is linked twice (src/cli/meson.build): once the ordinary way,
 * then, on x86-64, again without GIO, GModule, json-glib and pcsc-lite.
 * Each function the first link took from them is a stub in the second
 * (src/cli/lazy-stubs.py writes them from the first link): its first call
 * opens the library and looks the function up, and every call after jumps
 * straight to it. `imzala-cli sign` at the BES level calls none of them, so
 * it names five libraries where the ordinary link names nine, and maps ten
 * at start instead of seventeen; every other command loads what it calls,
 * when it calls it. */
#pragma once

typedef struct
{
  const char *name;
  unsigned    library;   /* index into imzala_lazy_libraries */
} ImzalaLazySymbol;

/* Written by lazy-stubs.py: the libraries, their handles once opened (one
 * each), and the stubs' functions in the order of their indexes. */
extern const char *const      imzala_lazy_libraries[];
extern void                  *imzala_lazy_handles[];
extern const ImzalaLazySymbol imzala_lazy_symbols[];

/* Called by a stub on its first call: the function's address (stored in its
 * slot for the next calls). A library that cannot be loaded ends the
 * process with a message: it is part of the installation. */
void *imzala_lazy_resolve (unsigned long index);
